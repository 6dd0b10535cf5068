"""The ``tramtiem`` command: the station's headless commands, and the app.

Qt is imported only when the window is started, so headless commands run
without a display.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kernel.errors import StationError

# This module imports little at its top: ``run`` turns the garbage collector off before
# the command's modules load (``station.cli``, ``sync.cli`` and theirs are imported
# where they are used).

# ``tramtiem sync`` and ``tramtiem enroll`` (sync/cli.py) run often and unattended (the
# engine's CLI, scheduled tasks): their parser is built alone, without the other
# commands' modules and the argparse work (help texts, gettext look-ups) of ~20 parsers.
SYNC_COMMANDS = ("sync", "enroll")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``tramtiem`` parser; with ``command`` in SYNC_COMMANDS, only that module's commands.

    Parsing ``[command, ...]`` gives the same namespace either way (same defaults, same
    errors and ``--help`` of the subcommand); ``tramtiem --help`` builds everything.
    """
    from station import cli as station_cli
    from sync import cli as sync_cli

    parser = argparse.ArgumentParser(
        prog="tramtiem", description="Trạm Tiêm: offline-first vaccination station"
    )
    # Its own dest: the subcommands' --data-dir defaults would overwrite a shared one.
    parser.add_argument("--data-dir", dest="app_data_dir",
                        help="start the window on this station data directory")
    parser.add_argument("--selftest", action="store_true",
                        help="check this installation (temporary data only), print a JSON report")
    # For CI and test benches only: a throwaway hub the tester started, never a production hub
    # (the selftest pushes its made-up people there). docs/packaging.md.
    parser.add_argument("--selftest-hub", metavar="URL",
                        help="with --selftest: also enroll the selftest station with this throwaway "
                             "hub and sync it (a test hub only)")
    parser.add_argument("--selftest-code", metavar="CODE",
                        help="with --selftest-hub: a one-time enrollment code for site "
                             "SELFTEST-01 on that hub")
    sub = parser.add_subparsers(dest="command")
    if command in SYNC_COMMANDS:
        sync_cli.register(sub, explain=cli_error_text, only=command)
        return parser
    from station import exchange_cli, maintenance_cli
    from ui import print_cli

    station_cli.register(sub)
    p = sub.add_parser("app", help="start the station window (the default without a command)")
    p.add_argument("--data-dir", help="station data directory (default: the enrolled station)")
    p.set_defaults(func=cmd_app)
    sync_cli.register(sub, explain=cli_error_text)
    maintenance_cli.register(sub, enroll=sync_cli.provision_enroller)
    exchange_cli.register(sub, render_pdf=print_cli.render_report_pdf)
    p = sub.add_parser("demo", help="try the station on throwaway demo data "
                                    "(from a source checkout; not in the site build)")
    p.add_argument("--data-dir", help="where to put the demo station (default: a new temp dir)")
    p.add_argument("--people", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--headless", action="store_true",
                   help="no window: sync the demo data to the embedded hub once and report")
    p.set_defaults(func=cmd_demo)
    return parser


def cmd_demo(args: argparse.Namespace) -> int:
    """A throwaway station with demo data and an embedded hub, in the window (or headless)."""
    from pathlib import Path

    ddir = Path(args.data_dir) if args.data_dir else None
    try:
        return _demo(args, ddir)
    except KeyboardInterrupt:
        # Ctrl+C while the demo data is made (the window handles its own Ctrl+C):
        # the throwaway directory is already removed on the way out.
        print("Demo stopped.", file=sys.stderr)
        return 130


def demo_hub_available() -> bool:
    """Whether this installation carries the embedded demo hub (``demohub``, FastAPI, uvicorn).

    A source checkout does; the site bundle leaves them out (packaging/tramtiem.spec): a
    site laptop only talks to the real hub.
    """
    import importlib.util

    return importlib.util.find_spec("demohub") is not None


_CLI_APP: list[object] = []  # the QCoreApplication the translations are installed on


def cli_error_text(exc: StationError) -> str:
    """A core error in the user's language for a command (the window's translations;
    Vietnamese unless the system's language is English)."""
    from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

    from ui import messages
    from ui.i18n import qm_path

    if not _CLI_APP:
        app = QCoreApplication.instance() or QCoreApplication([])
        lang = "en" if QLocale.system().language() == QLocale.Language.English else "vi"
        tr = QTranslator(app)
        if tr.load(str(qm_path(lang))):
            app.installTranslator(tr)
        _CLI_APP.extend([app, tr])
    return messages.error_text(exc)


def demo_unavailable_text(lang: str | None = None) -> str:
    """The translated answer of ``tramtiem demo`` in the site build."""
    from PySide6.QtCore import QLocale, QTranslator

    from ui.i18n import QT_TRANSLATE_NOOP, qm_path

    source = QT_TRANSLATE_NOOP(
        "DemoCommand",
        "Demo mode is not part of this site build: a site laptop only talks to its real hub. "
        "To try Trạm Tiêm on throwaway demo data, run it from a source checkout: ./dev demo",
    )
    if lang is None:  # the system's language; Vietnamese unless it is English
        lang = "en" if QLocale.system().language() == QLocale.Language.English else "vi"
    tr = QTranslator()
    if tr.load(str(qm_path(lang))):
        return tr.translate("DemoCommand", source) or source
    return source


def _demo(args: argparse.Namespace, ddir: object) -> int:
    from pathlib import Path

    from station import cli as station_cli

    if not demo_hub_available():
        print(demo_unavailable_text(), file=sys.stderr)
        return station_cli.EXIT_USAGE
    from demohub import demo_station
    from station.demo import DEMO_PASSWORD

    assert ddir is None or isinstance(ddir, Path)
    if not args.headless:
        from ui.app import no_display

        if no_display():
            print("No display for the window: running `tramtiem demo --headless` instead.",
                  file=sys.stderr)
            args.headless = True
    with demo_station(people=args.people, seed=args.seed, data_dir=ddir) as demo:
        print(f"Demo station in {demo.data_dir}: {demo.people} people, {demo.expected_today} "
              f"expected today; embedded hub at {demo.hub_url}.")
        print("Users (password " + repr(DEMO_PASSWORD) + "): admin, giamsat (supervisor), "
              "thuky (clerk), bacsi (screener), tinhnguyen (volunteer)")
        if args.headless:
            return _sync_once(demo.data_dir)
        from ui.app import run

        code = run(demo.data_dir)
    print("Demo closed; its throwaway data is removed." if ddir is None else "Demo closed.")
    return code


def _sync_once(data_dir: object) -> int:
    """Headless demo: one sync cycle to the embedded hub, then a summary."""
    from pathlib import Path

    from station import cli as station_cli
    from station.store import open_station
    from sync import cli as sync_cli
    from sync.engine import SyncEngine

    st = open_station(Path(str(data_dir)))
    try:
        report = SyncEngine(st, sync_cli.client_factory_for(st)).run_once()
    finally:
        st.close()
    print(sync_cli.format_report(report))
    return station_cli.EXIT_OK if report.ok else station_cli.EXIT_CHECK


def cmd_app(args: argparse.Namespace) -> int:
    """The station window on the enrolled (default) or given data directory."""
    from pathlib import Path

    from ui.app import run

    data_dir = args.data_dir or getattr(args, "app_data_dir", None)
    return run(Path(data_dir) if data_dir else None)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    _release_gc(freeze=args.command == "sync")
    if args.selftest:
        from ui import selftest

        if args.selftest_code and not args.selftest_hub:
            parser.error("--selftest-code needs --selftest-hub")
        return selftest.main(sync_hub=args.selftest_hub, sync_code=args.selftest_code)
    if args.command is None:
        args.data_dir = args.app_data_dir
        return cmd_app(args)
    if args.command == "app":
        return cmd_app(args)
    _setup_command_logging(args)
    from station import cli as station_cli

    return station_cli.run(args)


# ---- the process's own start and end (the console script, ``python -m ui.cli``) ----------

_GC_HELD: list[bool] = []  # run() turned the collector off for the start-up imports
# Set by run() unless already set: pydantic's plugin discovery off (its entry-point scan,
# ~6 ms of the preload's import that a sync's first push waits for; issue 15, phase 10).
# An operator's own value is kept.
PYDANTIC_PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"


def _release_gc(*, freeze: bool = False) -> None:
    """The collector back on once the command's modules are loaded (after :func:`run`).

    ``run`` turns it off first: the start-up imports make ~24,000 objects that all live
    as long as the process, and the collections they triggered (every 700 new objects,
    full ones as the heap grew) walked them again and again (~6 ms of a ``tramtiem sync``
    start, issue 15). For a sync they go to the permanent generation (``gc.freeze``), as
    ``sync.cli.settle_heap`` does next, so that its collection does not walk them all
    (the few hundred objects of cyclic garbage the imports left stay there: tens of KB,
    never freed); any other command (the window runs for hours) gets the collector back
    as it was. A caller of :func:`main` (the tests) never turned it off, and its heap is
    left alone.
    """
    if _GC_HELD:
        _GC_HELD.clear()
        if freeze:
            gc.freeze()
        gc.enable()


def run() -> None:
    """The ``tramtiem`` command as a process: :func:`main`, then the process's end.

    After a ``tramtiem sync`` the process ends at once (``os._exit``) instead of tearing
    down the interpreter: by then the station is closed (every transaction committed, its
    connections closed), and freeing every module and object one by one took 45-90 ms of
    each sync's wall (issue 15). What an ordinary exit does that matters is done first:
    the ``atexit`` handlers (logging's flush and close of the log files, temporary files,
    coverage), and stdout and stderr flushed. Only with no other thread left (an ordinary
    exit would wait for a non-daemon one, and kill a daemon one), and never for a command
    that raised: those end as before. In-process callers use :func:`main`.
    """
    _GC_HELD[:] = [True]
    gc.disable()
    # pydantic looks for plugins (the ``pydantic`` entry points of every installed package)
    # when it builds its first validator; Trạm Tiêm uses none (docs/perf-sync.md, phase 10).
    os.environ.setdefault(PYDANTIC_PLUGINS_ENV, "__all__")
    try:
        code = main()
    finally:
        _release_gc()
    if sys.argv[1:2] == ["sync"]:
        _exit_now(code)
    raise SystemExit(code)


def _flushed() -> bool:
    for f in (sys.stdout, sys.stderr):
        if f is None:
            continue
        try:
            f.flush()
        except (OSError, ValueError):  # a closed pipe: the ordinary exit reports it
            return False
    return True


def _exit_now(code: int) -> None:
    """End the process without the interpreter's teardown, when nothing is left to wait for."""
    import atexit

    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if run_exitfuncs is None or threading.active_count() != 1 or not _flushed():
        return  # the ordinary exit
    run_exitfuncs()  # as the interpreter's exit runs them (logging.shutdown among them)
    if _flushed():
        os._exit(code)
    raise SystemExit(code)  # a handler's output could not be written: reported as usual


def _setup_command_logging(args: argparse.Namespace) -> None:
    """Commands log to ``<data dir>/logs/``: ``sync`` to sync.log, the others to cli.log."""
    if args.command == "demo":
        return  # a throwaway directory; the demo window sets up its own log
    from pathlib import Path

    from station import logsetup
    from station.store import default_data_dir

    ddir = getattr(args, "data_dir", None)
    logsetup.setup(Path(ddir) if ddir else default_data_dir(),
                   "sync" if args.command == "sync" else "cli")


if __name__ == "__main__":
    run()
