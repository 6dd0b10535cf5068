"""``tramtiem site-hub serve | status``: this laptop as its site's hub (docs/site-hub.md).

``serve`` enrolls the site hub with the province this desk is enrolled with (the first
time, with ``--code``), runs it as a child process until Ctrl+C or SIGTERM, and points
this desk's own site hub route at it (:mod:`sync.site_hub_serve`). ``status`` says what
this laptop's site hub is and whether it answers; ``stop`` ends a running ``serve`` (SIGTERM:
it stops its child and exits). Errors are printed through ``explain``
(the window's translations, given by ``ui.cli``), with the code for IT staff.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from kernel.errors import StationError, ValidationError
from station.store import default_data_dir, open_station
from sync import site_hub_serve as shs

EXIT_OK, EXIT_USAGE, EXIT_INPUT, EXIT_HUB = 0, 2, 4, 5
PIDFILE = "serve.json"  # the running ``serve``: its process id and port (``stop`` reads it)
STOP_WAIT_S = 60.0
STARTUP_GRACE_S = 120.0  # a file this fresh with the port still closed: a ``serve`` starting

Explain = Callable[[StationError], str]


def _plain(exc: StationError) -> str:
    return str(exc)


def _fail(exc: StationError, explain: Explain) -> int:
    codes = ", ".join(i.code for i in exc.issues) if isinstance(exc, ValidationError) else exc.code
    print(f"error: {explain(exc)} [{codes}]", file=sys.stderr)
    if isinstance(exc, ValidationError):
        return EXIT_INPUT
    return EXIT_USAGE if exc.code in ("site_hub.not_installed", "site_hub.desk_not_enrolled") else EXIT_HUB


class _Stop(Exception):
    pass


def _on_term(_sig: int, _frame: FrameType | None) -> None:
    raise _Stop


def cmd_serve(args: argparse.Namespace, explain: Explain = _plain) -> int:
    ddir = Path(args.data_dir) if args.data_dir else default_data_dir()
    st = open_station(ddir)
    proc = shs.SiteHubProcess(ddir, port=args.port, host=args.host, announce=not args.no_announce)
    previous = signal.signal(signal.SIGTERM, _on_term)
    pidfile = shs.hub_dir(ddir) / PIDFILE
    try:
        info = shs.enroll(ddir, st, args.code or "", name=args.name or "")
        # Written before the child can accept: ``stop`` seeing the port open always finds the
        # file, and a ``stop`` while the child starts waits for it (STARTUP_GRACE_S).
        pidfile.write_text(json.dumps({"pid": os.getpid(), "port": args.port}), "utf-8")
        proc.start()
        shs.point_desk(st, proc)
        print(f"site hub of {info.site_code} serving on https://{args.host}:{args.port} "
              f"(relaying to {info.province_url}); certificate SHA-256 {info.fingerprint}; "
              f"this desk syncs through it ({proc.local_url}); Ctrl+C stops it", flush=True)
        rc = proc.wait()
        print(f"error: the site hub stopped by itself (exit {rc}); see {shs.hub_dir(ddir) / shs.LOG_FILE}",
              file=sys.stderr)
        return EXIT_HUB
    except StationError as exc:
        return _fail(exc, explain)
    except (KeyboardInterrupt, _Stop):
        print("site hub stopped", flush=True)
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)
        proc.stop()
        pidfile.unlink(missing_ok=True)
        st.close()


def _started(pidfile: Path, port: int) -> bool:
    """Whether the ``serve`` of this file answers on its port, waiting while one is starting."""
    while not shs.accepts(port):
        try:
            age = time.time() - pidfile.stat().st_mtime
        except OSError:
            return False  # the ``serve`` ended while starting
        if not 0 <= age < STARTUP_GRACE_S:
            return False
        time.sleep(0.2)
    return True


def cmd_stop(args: argparse.Namespace, explain: Explain = _plain) -> int:
    """Stop a ``tramtiem site-hub serve`` running for this data directory (it stops its child)."""
    ddir = Path(args.data_dir) if args.data_dir else default_data_dir()
    pidfile = shs.hub_dir(ddir) / PIDFILE
    try:
        running = json.loads(pidfile.read_text("utf-8"))
        pid, port = int(running["pid"]), int(running["port"])
    except (OSError, ValueError, KeyError, TypeError):
        print("no site hub is running from this data directory")
        return EXIT_OK
    if not _started(pidfile, port):  # a file left by a process that ended without removing it
        pidfile.unlink(missing_ok=True)
        print("no site hub is running from this data directory")
        return EXIT_OK
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pidfile.unlink(missing_ok=True)
        print("no site hub is running from this data directory")
        return EXIT_OK
    # POSIX: it stops its child and removes the file. Windows ends the process at once (no
    # handler runs): its child sees its stdin close and stops; the port closing says so.
    deadline = time.monotonic() + STOP_WAIT_S
    while pidfile.exists() and shs.accepts(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    if shs.accepts(port):
        print(f"error: the site hub (process {pid}) did not stop within {STOP_WAIT_S:.0f} s", file=sys.stderr)
        return EXIT_HUB
    pidfile.unlink(missing_ok=True)
    print("site hub stopped")
    return EXIT_OK


def cmd_status(args: argparse.Namespace, explain: Explain = _plain) -> int:
    ddir = Path(args.data_dir) if args.data_dir else default_data_dir()
    info = shs.SiteHubInfo.load(ddir)
    if info is None:
        print("this laptop is not a site hub (tramtiem site-hub serve --code RELAYCODE makes it one)")
        return EXIT_OK
    st = open_station(ddir)
    try:
        setting = shs.serve_setting(st)
    finally:
        st.close()
    port = int(setting.get("port", shs.DEFAULT_PORT)) if setting else shs.DEFAULT_PORT  # type: ignore[call-overload]
    print(f"site hub of {info.site_code}, relaying to {info.province_url}")
    print(f"certificate SHA-256 {info.fingerprint}")
    print(f"data: {shs.hub_dir(ddir)}")
    print(f"started by the window: {'yes' if setting and setting.get('app') else 'no'}; port {port}")
    print(f"answering on this laptop: {'yes' if shs.accepts(port) else 'no'}")
    return EXIT_OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``serve`` options of ``tramtiem site-hub`` (the parser lives in ``sync.cli``)."""
    p.add_argument("--code", help="with serve, the first time: the relay code from the province "
                   "(tramtiem-hub relay code --site SITE)")
    p.add_argument("--port", type=int, default=shs.DEFAULT_PORT, help="with serve: the HTTPS port (8765)")
    p.add_argument("--host", default="0.0.0.0",
                   help="with serve: the address to listen on (default all: the desks of the LAN)")
    p.add_argument("--no-announce", action="store_true",
                   help="with serve: no DNS-SD announcement (desks type this laptop's address)")
    p.add_argument("--name", default="", help="with serve: a name for the site hub shown at the province")


__all__ = ["add_arguments", "cmd_serve", "cmd_status", "cmd_stop"]
