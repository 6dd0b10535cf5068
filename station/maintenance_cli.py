"""IT-staff maintenance commands: keys, backups, restore, provisioning, sneakernet export.

    tramtiem key recovery --data-dir D --user U [--password-stdin]
    tramtiem key restore --data-dir D [--code CODE]
    tramtiem backup --data-dir D --to DIR
    tramtiem restore FILE --data-dir D [--recovery-code CODE]
    tramtiem provision --file F --data-dir D [--letter X] [--code CODE]
    tramtiem provision --hash-password            (prints an argon2 hash for the file)
    tramtiem export-bundle --data-dir D --to DIR

``register(sub, enroll=...)`` adds them to ``tramtiem`` (``ui/cli.py``). The
station core may not import ``sync``; the enrollment step of ``provision``
is therefore handed in by the composition root (``sync.cli.enroll_station``).
Exit codes follow ``station.cli``: 0 ok, 1 check failed, 2 usage, 3 store or
keyring, 4 invalid input, 5 the hub could not be reached or refused.
Nothing printed or logged here contains personal data; the recovery code is
printed only by ``key recovery`` and only to stdout.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from kernel.errors import (
    DomainError,
    PermissionDenied,
    StationError,
    StoreError,
    ValidationError,
)
from station.store import default_data_dir, open_station

EXIT_OK, EXIT_CHECK, EXIT_USAGE, EXIT_STORE, EXIT_INPUT, EXIT_HUB = 0, 1, 2, 3, 4, 5

# (data_dir, hub_url, code, site_letter) -> human summary; raises an exception with
# ``code``/``message``/``exit_code`` attributes on failure (sync.cli.EnrollFailed).
Enroller = Callable[[Path, str, str, str], str]

MESSAGES = {
    "restore.checksum": "The backup file does not match its manifest (damaged or changed). Use another copy.",
    "restore.wrong_key": "The key (keyring or recovery code) does not open this backup: it belongs to another station, or the code is wrong.",
    "restore.integrity": "The backup file is damaged (integrity check failed). Use another copy.",
    "restore.audit_chain": "The backup's audit log was altered. It is refused; use another copy.",
    "restore.no_manifest": "The manifest (.json next to the backup file) is missing; copy both files.",
    "restore.no_file": "No such backup file.",
    "restore.other_station": "This data directory holds another station. Restore into an empty directory.",
    "restore.needs_recovery_code": "This machine's keyring has no key for that station: give --recovery-code.",
    "restore.schema_newer": "The backup was written by a newer Trạm Tiêm; install that version first.",
    "restore.station_mismatch": "The backup file and its manifest describe different stations.",
    "restore.app_running": "Trạm Tiêm is open on this laptop for this station. Close it (every window; "
                           "also stop any `tramtiem sync` running), then run the restore again. Nothing was changed.",
    "restore.file_in_use": "The station's database file is held by another program (Trạm Tiêm, a backup or "
                           "an antivirus scan). Close Trạm Tiêm, wait a minute for the scan to finish (or "
                           "exclude the data folder from scanning), then run the restore again. Nothing was changed.",
    "backup.bad_manifest": "The manifest file cannot be read.",
    "backup.copy_mismatch": "The copy on the target drive differs from the backup: the drive may be failing.",
    "sync.not_enrolled": "This station is not enrolled with a hub (no token on this machine): run tramtiem enroll.",
    "recovery_code.length": "A recovery code has 56 letters and digits (dashes and spaces do not count).",
    "recovery_code.chars": "The recovery code contains characters that cannot be in it.",
    "recovery_code.checksum": "The recovery code has a typo: check each group against the printed sheet.",
    "recovery_code.wrong_station": "This recovery code is valid but does not open this station's data.",
}


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else default_data_dir()


def _explain(exc: StationError) -> str:
    if isinstance(exc, ValidationError):
        texts = [MESSAGES.get(i.code, f"{i.field} ({i.code})") for i in exc.issues]
        return "; ".join(texts) + f" [{', '.join(sorted(exc.codes()))}]"
    text = MESSAGES.get(exc.code)
    if text:
        return f"{text} [{exc.code}]"
    from station.cli import explain

    return explain(exc)


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass(prompt)


# ---- key -------------------------------------------------------------------------------


def cmd_key_recovery(args: argparse.Namespace) -> int:
    # The command's own modules: other commands (`sync --once`) start without them.
    from station import recovery
    from station.services import admin

    st = open_station(_data_dir(args))
    try:
        password = _read_secret(f"Password for {args.user}: ", args.password_stdin)
        try:
            actor = admin.login(st, args.user, password)
        except DomainError as exc:
            print(f"error: login failed [{exc.code}]", file=sys.stderr)
            return EXIT_INPUT
        code = recovery.recovery_code(st, actor)
    finally:
        st.close()
    print(code)
    print("Keep this code on paper in a safe place: with it and a backup, the data can be opened "
          "on another laptop.", file=sys.stderr)
    return EXIT_OK


def cmd_key_restore(args: argparse.Namespace) -> int:
    from station import recovery

    code = args.code or _read_secret("Recovery code: ", args.code_stdin)
    install_id = recovery.restore_key(_data_dir(args), code)
    print(f"the key of station {install_id} is now in this machine's keyring")
    return EXIT_OK


# ---- backup and restore ----------------------------------------------------------------


def cmd_backup(args: argparse.Namespace) -> int:
    from station import backup

    res = backup.backup_to(_data_dir(args), Path(args.to))
    m = res.manifest
    print(f"backup written: {res.path} ({m.size / 1e6:.1f} MB, encrypted) and {res.manifest_path.name}")
    print(f"  site {m.site_code}, {m.doses} doses, ops " + ", ".join(f"{k} {v}" for k, v in sorted(m.ops.items())))
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from station import backup

    res = backup.restore_backup(Path(args.file), _data_dir(args), recovery_code=args.recovery_code)
    print(f"restored station {res.install_id} (site {res.site_code}) into {_data_dir(args)}")
    if res.replaced is not None:
        print(f"  the previous database was kept in {res.replaced}")
    print(f"  new replica epoch; {res.pending} ops will be sent at the next sync "
          f"(the hub answers 'duplicate' for those it already has)")
    if res.key_stored:
        print("  the database key from the recovery code is now in this machine's keyring")
    if res.needs_enrollment:
        print("  this machine has no hub token for the station: ask the hub admin for a new "
              "one-time code and run: tramtiem enroll --hub URL --code CODE --data-dir "
              f"{_data_dir(args)}")
    return EXIT_OK


# ---- provisioning ----------------------------------------------------------------------


def cmd_provision(args: argparse.Namespace) -> int:
    from station import provision
    from station.services import admin

    if args.hash_password:
        first = _read_secret("Admin password: ", args.password_stdin)
        second = first if args.password_stdin else _read_secret("Again: ", False)
        if first != second:
            print("error: the two passwords differ", file=sys.stderr)
            return EXIT_INPUT
        print(admin.hash_password(first))
        return EXIT_OK
    if not args.file:
        print("error: --file is required", file=sys.stderr)
        return EXIT_USAGE
    prov = provision.load(Path(args.file))
    ddir = _data_dir(args)
    res = provision.apply_local(ddir, prov, letter=args.letter)
    print(f"station {res.install_id} {'created' if res.created else 'kept'} for site {prov.site_code}"
          + ("; admin account created" if res.admin_created else ""))
    code = args.code or prov.enrollment_code
    enroll: Enroller | None = getattr(args, "enroll_fn", None)
    if not code:
        print(f"not enrolled yet: when the hub can be reached, run: tramtiem enroll --hub "
              f"{prov.hub_url} --code CODE --data-dir {ddir}")
        return EXIT_OK
    if enroll is None:  # pragma: no cover - the composition root always hands it in
        print("error: enrollment is not available in this build", file=sys.stderr)
        return EXIT_USAGE
    try:
        print(enroll(ddir, prov.hub_url, code, args.letter or prov.station_letter))
    except Exception as exc:
        code_attr = getattr(exc, "code", None)
        if code_attr is None:
            raise
        print(f"error: enrollment failed [{code_attr}] {getattr(exc, 'message', '')}".rstrip()
              + f"; the station is set up locally: retry with tramtiem enroll --hub {prov.hub_url} "
              f"--code CODE --data-dir {ddir}", file=sys.stderr)
        return int(getattr(exc, "exit_code", EXIT_HUB))
    return EXIT_OK


# ---- sneakernet ------------------------------------------------------------------------


def cmd_export_bundle(args: argparse.Namespace) -> int:
    from station import bundle

    st = open_station(_data_dir(args))
    try:
        res = bundle.export_bundle(st, Path(args.to))
    finally:
        st.close()
    span = f" (op_seq {res.first_op_seq}–{res.last_op_seq})" if res.ops else ""
    print(f"bundle written: {res.path} with {res.ops} ops{span}, encrypted and signed")
    print("at the hub: tramtiem-hub import-bundle " + res.path.name)
    return EXIT_OK


# ---- wiring ----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run one of these commands with this module's messages for its error codes."""
    try:
        return int(args.maint_func(args))
    except (ValidationError, DomainError) as exc:
        print(f"error: {_explain(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except PermissionDenied as exc:
        print(f"error: only an admin may do this [{exc.code}]", file=sys.stderr)
        return EXIT_INPUT
    except StoreError as exc:
        print(f"error: {_explain(exc)}", file=sys.stderr)
        return EXIT_CHECK if exc.code.startswith("restore.") else EXIT_STORE


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], *, enroll: Enroller | None = None) -> None:
    """Add the maintenance commands to an argparse subparsers object."""

    def add(name: str, help_: str, fn: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
        p.set_defaults(func=run, maint_func=fn, enroll_fn=enroll)
        return p

    key = sub.add_parser("key", help="the database key: recovery code, restore on a new laptop")
    ksub = key.add_subparsers(dest="key_command", required=True)
    p = ksub.add_parser("recovery", help="print the recovery code (admin login required)")
    p.add_argument("--data-dir")
    p.add_argument("--user", required=True, help="an admin's user name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=run, maint_func=cmd_key_recovery)
    p = ksub.add_parser("restore", help="put the key into this machine's keyring from the recovery code")
    p.add_argument("--data-dir")
    p.add_argument("--code", help="the recovery code (prompted when left out)")
    p.add_argument("--code-stdin", action="store_true", help="read the code from stdin")
    p.set_defaults(func=run, maint_func=cmd_key_restore)

    p = add("backup", "write an encrypted backup (e.g. to a USB stick)", cmd_backup)
    p.add_argument("--data-dir")
    p.add_argument("--to", required=True, help="target directory")

    p = add("restore", "restore a backup (verifies it; rotates the replica epoch)", cmd_restore)
    p.add_argument("file", help="the backup .db file (its .json manifest beside it)")
    p.add_argument("--data-dir")
    p.add_argument("--recovery-code", help="needed on a new laptop (no key in the keyring)")

    p = add("provision", "set up this laptop from a provisioning file", cmd_provision)
    p.add_argument("--file", help="provision.json")
    p.add_argument("--data-dir")
    p.add_argument("--letter", help="this laptop's station letter (overrides the file)")
    p.add_argument("--code", help="this laptop's one-time enrollment code (overrides the file)")
    p.add_argument("--hash-password", action="store_true",
                   help="print an argon2 hash of an admin password for the file, and exit")
    p.add_argument("--password-stdin", action="store_true")

    p = add("export-bundle", "write the waiting records to an encrypted file (no internet)",
            cmd_export_bundle)
    p.add_argument("--data-dir")
    p.add_argument("--to", required=True, help="target directory (e.g. the USB stick)")


__all__ = ["Enroller", "register", "run"]
