"""Composition root of the station app: builds the pieces, shows the login, swaps windows.

Nothing here is global: the ``StationApp`` object owns the task manager, the
sync bridge, the settings and the windows, and hands them down explicitly.
The station file is opened on a worker thread while the login window is
already on screen.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from station import logsetup
from station.backup import BackupScheduler
from station.store import Actor, Station, default_data_dir, open_station
from ui import i18n, theme
from ui.bridge import SyncBridge, SyncController
from ui.context import AppContext, Session
from ui.login import LoginWindow
from ui.main_window import MainWindow
from ui.settings import UiSettings, load_settings, save_settings
from ui.single_instance import InstanceGuard, ask_first_to_show
from ui.site_hub_host import SiteHubHost
from ui.sync_local import LocalSyncPoller
from ui.sync_wiring import RunningSync, start_sync
from ui.tasks import TaskManager
from ui.wizard import SetupWizard, needs_setup

log = logging.getLogger(__name__)


GIL_SWITCH_INTERVAL_S = 0.001


class StationApp(QObject):
    def __init__(
        self,
        qapp: QApplication,
        data_dir: Path,
        *,
        station: Station | None = None,
        controller: SyncController | None = None,
        opener: Callable[[Path], Station] = open_station,
        start_engine: bool = True,
    ) -> None:
        super().__init__()
        # The GUI thread needs the interpreter (the GIL) for every call into Python (a slot,
        # a model's data()); while the writer or the sync engine runs Python for seconds,
        # CPython hands the GIL over every 5 ms by default, and a window that needs it a few
        # dozen times per frame stalls for hundreds of ms. Handing over every 1 ms keeps it
        # under the 100 ms a user notices (bench ui_stall) for a negligible cost in throughput.
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        self.qapp = qapp
        self.data_dir = Path(data_dir)
        self._given_station = station
        self._controller = controller
        self._opener = opener
        self._start_engine = start_engine
        self.sync: RunningSync | None = None
        self.settings: UiSettings = load_settings(self.data_dir)
        self.tasks = TaskManager(self)
        self.bridge = SyncBridge(self)
        self.translator: QTranslator | None = i18n.install(qapp, self.settings.language)
        theme.apply(qapp)
        self.station: Station | None = None
        self.ctx: AppContext | None = None
        self.poller: LocalSyncPoller | None = None
        self.main: MainWindow | None = None
        self.backups: BackupScheduler | None = None
        self.wizard: SetupWizard | None = None
        # "This laptop is the site hub" (Admin): the child process it runs (tests replace
        # the factory to keep it on 127.0.0.1 without announcing).
        self.make_site_hub: Callable[[Station, Path], SiteHubHost] = SiteHubHost
        self.site_hub: SiteHubHost | None = None
        self.login = self._new_login()

    # ---- start ------------------------------------------------------------------------------

    def _new_login(self) -> LoginWindow:
        win = LoginWindow(self.tasks)
        win.panel.sig_logged_in.connect(self._logged_in)
        return win

    def start(self) -> None:
        if self._given_station is None and needs_setup(self.data_dir):
            # First run (or an unfinished setup): the wizard, then the login.
            self.wizard = SetupWizard(self.tasks, self.data_dir)
            self.wizard.sig_finished.connect(self._setup_done)
            self.wizard.show()
            return
        self.login.show()
        if self._given_station is not None:
            self._station_opened(self._given_station)
            return
        ddir, opener = self.data_dir, self._opener
        self.tasks.read(lambda: opener(ddir), owner=self, on_ok=self._station_opened,
                        on_err=self.login.station_failed, label="open-station")

    def _setup_done(self) -> None:
        if self.wizard is not None:
            self.wizard.hide()
            self.wizard.deleteLater()
            self.wizard = None
        self.start()

    def _station_opened(self, st: Station) -> None:
        self.station = st
        if self._given_station is None:
            # Rolling encrypted backups while the app runs, and one at exit (shutdown).
            self.backups = BackupScheduler(st, interval_s=self.settings.backup_minutes * 60)
            self.backups.start()
        site_name, hub_url = enrollment_facts(st)
        self.site_hub = self.make_site_hub(st, self.data_dir)
        self.ctx = AppContext(st, self.tasks, self.bridge, self.data_dir, self.settings, self._save_settings,
                              hub_site_name=site_name, enrolled_hub_url=hub_url, site_hub=self.site_hub,
                              restart_sync=self._restart_sync)
        if self._given_station is None:
            # The Admin setting is on: this laptop serves its site's desks again.
            self.tasks.read(self.site_hub.resume, owner=self, label="site-hub-resume",
                            on_err=lambda exc: log.warning("site hub not started: %s",
                                                           getattr(exc, "code", type(exc).__name__)))
        if self._controller is None and self._start_engine:
            # An enrolled station syncs by itself in the background (its own thread).
            self.sync = start_sync(st)
            if self.sync is not None:
                self._controller = self.sync.controller
        if self._controller is not None:
            self.bridge.attach(self._controller)
        if self.sync is not None and self.sync.relay_controller is not None:
            self.bridge.attach_site_hub(self.sync.relay_controller)
        self.poller = LocalSyncPoller(st, self.tasks, self.bridge, self)
        self.poller.start(hub_configured=bool(self.settings.hub_url or hub_url))
        self.login.station_ready(st, self.ctx.site_name())

    def front_window(self) -> QWidget:
        """The window the user is working in: the setup wizard, the main window or the login."""
        if self.wizard is not None:
            return self.wizard
        if self.main is not None:
            return self.main
        return self.login

    def bring_forward(self) -> None:
        """Another launch asked for this window (ui.single_instance): show it on top."""
        win = self.front_window()
        if win.isMinimized():
            win.showNormal()
        else:
            win.show()
        win.raise_()
        win.activateWindow()

    # ---- sessions ---------------------------------------------------------------------------

    def _logged_in(self, actor: Actor) -> None:  # LoginPanel.sig_logged_in
        self._open_main(Session(actor))
        self.login.hide()
        # Long-lived objects made so far (Qt wrappers, reference data) leave the
        # collector's view: full collections during a long sync otherwise pause
        # the whole process, the GUI thread included, for hundreds of ms.
        gc.freeze()

    def _open_main(self, session: Session, workspace: str | None = None) -> None:
        assert self.ctx is not None
        # A colleague unlocking (or a language change) gets the window as it was: maximised
        # stays maximised, a window the user sized keeps its place.
        old = self.main
        state = old.windowState() if old is not None else Qt.WindowState.WindowMaximized
        geometry = old.saveGeometry() if old is not None else None
        self._close_main()
        win = MainWindow(self.ctx, session)
        win.sig_switch_user.connect(lambda a: self._open_main(Session(a)))
        win.sig_logout.connect(self.logout)
        self.main = win
        win.show_workspace(workspace or win.home_workspace())
        if geometry is not None:
            win.restoreGeometry(geometry)
        win.setWindowState(state)
        win.show()

    def _close_main(self) -> None:
        if self.main is not None:
            self.main.detach()
            self.main.hide()
            self.main.deleteLater()
            self.main = None

    def logout(self) -> None:
        self._close_main()
        old = self.login
        self.login = self._new_login()
        old.deleteLater()
        if self.station is not None and self.ctx is not None:
            self.login.station_ready(self.station, self.ctx.site_name())
        self.login.show()

    # ---- settings ---------------------------------------------------------------------------

    def _save_settings(self, values: UiSettings) -> None:
        save_settings(self.data_dir, values)
        old = self.settings
        self.settings = values
        if self.ctx is not None and values.hub_url and self.ctx.enrolled_hub_url \
                and values.hub_url.rstrip("/") != self.ctx.enrolled_hub_url.rstrip("/"):
            self._move_hub(values.hub_url.rstrip("/"))
        if self.ctx is not None:
            self.ctx.settings = values
        if self.main is not None:
            self.main.idle.set_timeout_ms(values.idle_lock_minutes * 60_000)
        if values.language != old.language:
            self.translator = i18n.install(self.qapp, values.language, self.translator)
            if self.main is not None:
                # Rebuild the window so every text is in the new language.
                self._open_main(self.main.session, self.main.current_key())

    def _move_hub(self, url: str) -> None:
        """The enrolled hub has a new address: store it, restart the engine on it (off the GUI thread)."""
        assert self.ctx is not None and self.station is not None
        st, running = self.station, self.sync
        self.ctx.enrolled_hub_url = url
        self.sync = None
        if running is not None:
            self.bridge.detach()

        def work() -> None:
            from station import replica
            from sync.cli import HUB_URL_KEY

            replica.set_meta(st, HUB_URL_KEY, url)
            if running is not None:
                running.stop()

        def restart(_r: None) -> None:
            if running is None or not self._start_engine:
                return
            self.sync = start_sync(st)
            if self.sync is not None:
                self.bridge.attach(self.sync.controller)
                if self.sync.relay_controller is not None:
                    self.bridge.attach_site_hub(self.sync.relay_controller)

        self.tasks.write(work, owner=self, on_ok=restart, label="move-hub")

    def _restart_sync(self) -> None:
        """This desk's own route to a site hub changed (Admin → Site hub): restart its engines."""
        st, running = self.station, self.sync
        if st is None or running is None or not self._start_engine:
            return
        self.sync = None
        self.bridge.detach()

        def restart(_r: None) -> None:
            self.sync = start_sync(st)
            if self.sync is not None:
                self.bridge.attach(self.sync.controller)
                if self.sync.relay_controller is not None:
                    self.bridge.attach_site_hub(self.sync.relay_controller)

        self.tasks.read(running.stop, owner=self, on_ok=restart, label="restart-sync")

    def shutdown(self) -> None:
        if self.poller is not None:
            self.poller.stop()
        self.bridge.detach()
        if self.sync is not None:
            self.sync.stop()
        if self.site_hub is not None:
            self.site_hub.close()  # the setting stays: it starts again with the window
        self._close_main()
        self.login.hide()
        if self.wizard is not None:
            self.wizard.hide()
        self.tasks.shutdown()  # first: a wizard step may still be writing
        if self.wizard is not None:
            self.wizard.close_station()
        if self.backups is not None:
            self.backups.stop(final=True)
        if self.translator is not None:
            self.qapp.removeTranslator(self.translator)
        if self.station is not None and self._given_station is None:
            self.station.close()


def enrollment_facts(st: Station) -> tuple[str, str]:
    """(site name, hub address) the hub gave at enrollment; empty strings when never enrolled."""
    from station import replica
    from sync.cli import HUB_URL_KEY, SITE_NAME_KEY

    try:
        return (replica.get_meta(st, SITE_NAME_KEY) or "", replica.get_meta(st, HUB_URL_KEY) or "")
    except Exception:  # an old or damaged meta table must not stop the window
        log.warning("enrollment facts unavailable")
        return "", ""


def quit_on_sigint(qapp: QApplication) -> QTimer:
    """Ctrl+C in the terminal closes the window cleanly (the same path as closing it).

    Python runs signal handlers only between bytecodes, and the Qt event loop is C++:
    a timer hands control back to the interpreter a few times a second so the handler runs.
    """
    import signal

    signal.signal(signal.SIGINT, lambda *_a: qapp.quit())
    timer = QTimer(qapp)
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer


def _setup_logging(data_dir: Path) -> None:
    """``<data dir>/logs/app.log``, rotating; never personal data (DESIGN §3.10, station.logsetup)."""
    logsetup.setup(data_dir, "app")


def no_display() -> bool:
    """True on a Linux box with no X11/Wayland session and no explicit Qt platform."""
    import os

    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(data_dir: Path | None = None, *, controller: SyncController | None = None) -> int:
    """Start the window on a station data directory; returns the exit code."""
    ddir = Path(data_dir) if data_dir is not None else default_data_dir()
    if no_display():
        # Qt would abort the process ("could not connect to display") with no hint.
        print(
            "No display: the station window needs a graphical session. Headless, use "
            "`tramtiem demo --headless`, the `tramtiem` commands, or set QT_QPA_PLATFORM=offscreen.",
            file=sys.stderr,
        )
        return 2
    _setup_logging(ddir)
    i18n.compile_stale()  # development checkout only: the bundle ships current .qm files
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("Trạm Tiêm")
    # One station per data directory: a second double-click brings this window forward
    # instead of starting a second sync engine and backup scheduler on the same file.
    guard = InstanceGuard(ddir)
    if not guard.claim():
        if ask_first_to_show(guard.name):
            log.info("already running: the first window was brought forward")
            print("Trạm Tiêm is already open for this station: its window was brought forward.",
                  file=sys.stderr)
            return 0
        log.warning("already running, and the first instance did not answer")
        i18n.install(qapp, load_settings(ddir).language)
        QMessageBox.information(None, "Trạm Tiêm", QCoreApplication.translate(
            "StationApp", "Trạm Tiêm is already open on this computer for this station. "
            "Look for its window in the taskbar."))
        return 0
    try:
        app = StationApp(qapp, ddir, controller=controller)
        guard.sig_raise_requested.connect(app.bring_forward)
        app.start()
        quit_on_sigint(qapp)
        try:
            return int(qapp.exec())
        finally:
            app.shutdown()
    finally:
        guard.release()
