; Inno Setup 6 script: the Windows installer for the station bundle.
;
;   python packaging\build.py                      (on Windows: dist\tramtiem\)
;   iscc /DAppVersion=0.1.0 packaging\windows\tramtiem.iss
;   -> dist\tramtiem-setup-0.1.0.exe
;
; Choices, and why (the file is UTF-8 with a BOM: Inno Setup needs it for Vietnamese):
; - Per-user install (no admin rights): site laptops are often borrowed and IT
;   staff do not always have the administrator password. Installs into
;   %LOCALAPPDATA%\Programs\TramTiem.
; - Upgrade in place: the AppId below never changes, so a newer installer finds
;   the old installation and replaces the program files; it first closes a
;   running Trạm Tiêm (Restart Manager) and deletes the old _internal folder so
;   no module of the previous version is left next to the new ones.
; - The station's data is NOT in the install folder: it lives in
;   %LOCALAPPDATA%\TramTiem\tramtiem (station.db, backups, logs) and its key in
;   Windows Credential Manager. The installer never touches either, and
;   uninstalling removes only the program files: a reinstall (or a newer
;   version) opens the same data. To wipe a laptop, delete that folder by hand
;   after a final sync and a backup (docs/packaging.md).
; - After installing, the console twin runs --selftest; a failure is shown but
;   does not roll the installation back (IT staff decide).
;
; This script cannot be compiled on the project's Linux machines; the Windows
; CI workflow (.github/workflows/windows-bundle.yml) runs it.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Trạm Tiêm"
#define AppExe "tramtiem.exe"
#define CliExe "tramtiem-cli.exe"
#define BundleDir "..\..\dist\tramtiem"

[Setup]
; Never change this id: it is how an upgrade finds the installed version.
AppId={{6F0F3E52-7B1C-4C55-9D7B-2A7C1E0B9A41}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Trạm Tiêm
VersionInfoVersion={#AppVersion}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={userpf}\TramTiem
UsePreviousAppDir=yes
DisableDirPage=auto
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
CloseApplications=yes
RestartApplications=no
OutputDir=..\..\dist
OutputBaseFilename=tramtiem-setup-{#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}
#ifexist "tramtiem.ico"
SetupIconFile=tramtiem.ico
#endif

[Languages]
; Inno Setup ships no Vietnamese translation of its own pages; the app itself
; starts in Vietnamese.
Name: "en"; MessagesFile: "compiler:Default.isl"

[InstallDelete]
; Upgrade in place: the previous version's modules must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{group}\{#AppName} - kiểm tra cài đặt (selftest)"; Filename: "{cmd}"; \
    Parameters: "/k ""{app}\{#CliExe}"" --selftest"; WorkingDir: "{app}"
Name: "{userdesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Tạo biểu tượng trên màn hình (desktop icon)"; Flags: unchecked

[Run]
Filename: "{app}\{#AppExe}"; Description: "Mở {#AppName}"; Flags: nowait postinstall skipifsilent

; Deliberately no [UninstallDelete] entry for the data folder: see the header.

[Code]
procedure CurStepChanged(CurStep: TSetupStep);
var
  ResultCode: Integer;
begin
  if CurStep = ssPostInstall then
  begin
    if not Exec(ExpandConstant('{app}\{#CliExe}'), '--selftest', ExpandConstant('{app}'),
                SW_HIDE, ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
      MsgBox('The installation self-test failed (exit code ' + IntToStr(ResultCode) + '). ' +
             'Run "' + ExpandConstant('{app}\{#CliExe}') + ' --selftest" in a command prompt ' +
             'to see which check failed.', mbError, MB_OK);
  end;
end;
