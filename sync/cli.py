"""Headless sync commands: ``tramtiem enroll`` and ``tramtiem sync``.

``register(subparsers)`` adds them to the ``tramtiem`` command (composed in
``ui/cli.py``). Exit codes follow ``station.cli`` (0 ok, 2 usage, 3 store or
keyring, 4 invalid input) plus 5: the hub could not be reached or refused.

The station token lives in the OS keyring (service ``tramtiem``, user
``station-token:<install_id>``), never in the data directory; the hub URL is
kept in the station's ``meta`` table (key ``hub_url``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import keyring
import keyring.errors

from station import keys, replica
from station.errors import KeyringUnavailable, StoreError
from station.ids import uuid7
from station.store import Station, default_data_dir, init_station, open_station
from sync.client import HubClient, HubError
from sync.engine import SyncEngine, SyncReport, SyncSettings
from sync.protocol import EnrollRequest

EXIT_OK, EXIT_USAGE, EXIT_STORE, EXIT_INPUT, EXIT_HUB = 0, 2, 3, 4, 5
HUB_URL_KEY = "hub_url"


# ---- token and hub URL -------------------------------------------------------------------


def _token_user(install_id: str) -> str:
    return f"station-token:{install_id}"


def store_token(install_id: str, token: str) -> None:
    keys.check_backend()
    try:
        keyring.set_password(keys.SERVICE, _token_user(install_id), token)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(backend=keys.backend_name(), reason=type(exc).__name__) from None


def load_token(install_id: str) -> str | None:
    keys.check_backend()
    try:
        return keyring.get_password(keys.SERVICE, _token_user(install_id))
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(backend=keys.backend_name(), reason=type(exc).__name__) from None


def hub_url(st: Station) -> str | None:
    return replica.get_meta(st, HUB_URL_KEY)


def client_factory_for(st: Station, url: str | None = None, **client_kw: Any) -> Any:
    """A ``client_factory`` for :class:`SyncEngine` from the station's stored URL and token."""
    base = url or hub_url(st)
    if not base:
        raise StoreError("sync.not_enrolled")
    token = load_token(st.install_id)
    if not token:
        raise StoreError("sync.not_enrolled")

    def factory() -> HubClient:
        return HubClient(base, token, **client_kw)

    return factory


# ---- enroll ------------------------------------------------------------------------------


def cmd_enroll(args: argparse.Namespace) -> int:
    ddir = Path(args.data_dir) if args.data_dir else default_data_dir()
    exists = (ddir / "station.json").exists()
    keys.check_backend()  # fail before the one-time code is spent
    st: Station | None = open_station(ddir) if exists else None
    try:
        station_id = st.install_id if st is not None else uuid7()
        try:
            with HubClient(args.hub) as client:
                resp = client.enroll(
                    EnrollRequest(code=args.code, station_id=station_id, station_name=args.name or "")
                )
        except HubError as exc:
            print(f"error: enrollment failed [{exc.code}] {exc.message}".rstrip(), file=sys.stderr)
            return EXIT_HUB
        if resp.station_id != station_id:
            print("error: the hub answered for another station [enroll.station_mismatch]", file=sys.stderr)
            return EXIT_HUB
        if st is None:
            st = init_station(
                ddir, resp.site_code, station_letter=args.site_letter, install_id=station_id
            )
        elif st.site_code != resp.site_code.upper():
            print(
                f"error: this station belongs to site {st.site_code} but the code enrolls it at "
                f"{resp.site_code} [enroll.site_mismatch]; ask the hub admin for a code for "
                f"{st.site_code}",
                file=sys.stderr,
            )
            return EXIT_INPUT
        store_token(st.install_id, resp.token)
        replica.set_meta(st, HUB_URL_KEY, args.hub.rstrip("/"))
        replica.set_meta(st, "hub_site_name", resp.site_name)
        print(f"enrolled station {st.install_id} at site {resp.site_code} ({resp.site_name}) with {args.hub}")
        return EXIT_OK
    finally:
        if st is not None:
            st.close()


# ---- sync --------------------------------------------------------------------------------


def format_report(r: SyncReport) -> str:
    status = "ok" if r.ok else f"FAILED [{r.error}]"
    parts = [
        f"sync {status}",
        f"pushed {r.pushed}",
        f"duplicate {r.duplicate}",
        f"rejected {r.rejected}",
        f"conflict {r.conflict}",
        f"pulled {r.pulled}",
        f"pending left {r.pending_left}",
        f"{r.duration_s:.1f}s",
    ]
    extra = []
    if r.refetched:
        extra.append("refetched from the start (hub epoch changed)")
    if r.epoch_rotated:
        extra.append("replica epoch rotated")
    if r.parked:
        extra.append(f"{r.parked} changes parked")
    if r.stalled:
        extra.append("STALLED: the queue is not moving")
    return ", ".join(parts) + ("; " + "; ".join(extra) if extra else "")


def cmd_sync(args: argparse.Namespace) -> int:
    ddir = Path(args.data_dir) if args.data_dir else default_data_dir()
    st = open_station(ddir)
    try:
        if args.hub:
            replica.set_meta(st, HUB_URL_KEY, args.hub.rstrip("/"))
        try:
            factory = client_factory_for(st, args.hub)
        except StoreError:
            print("error: this station is not enrolled; run: tramtiem enroll --hub URL --code CODE",
                  file=sys.stderr)
            return EXIT_USAGE
        engine = SyncEngine(st, factory, settings=SyncSettings())
        if args.once:
            report = engine.run_once()
            print(format_report(report))
            return EXIT_OK if report.ok else EXIT_HUB
        # Continuous mode in the foreground, for servers and scripts: Ctrl-C stops it.
        last: SyncReport | None = None
        try:
            while True:
                last = engine.run_once()
                print(format_report(last), flush=True)
                if last.ok and last.pending_left == 0:
                    delay = engine.settings.interval_s
                else:
                    delay = 0.5 if last.ok else engine.backoff_delay(engine.consecutive_failures)
                time.sleep(delay)
        except KeyboardInterrupt:
            return EXIT_OK if (last is None or last.ok) else EXIT_HUB
    finally:
        st.close()


def register(sub: Any) -> None:
    """Add ``enroll`` and ``sync`` to an argparse subparsers object."""
    p = sub.add_parser("enroll", help="enroll this station with the hub (one-time code)")
    p.add_argument("--hub", required=True, help="hub base URL, e.g. https://hub.example.vn")
    p.add_argument("--code", required=True, help="one-time enrollment code from the hub admin")
    p.add_argument("--data-dir", help="data directory (created if empty)")
    p.add_argument("--site-letter", default="A", help="this station's letter at the site (new stations)")
    p.add_argument("--name", default="", help="a name for this station shown at the hub")
    p.set_defaults(func=cmd_enroll)

    p = sub.add_parser("sync", help="send waiting records to the hub and fetch changes")
    p.add_argument("--data-dir", help="data directory (default: the OS user-data dir)")
    p.add_argument("--hub", help="hub base URL (default: the one stored at enrollment)")
    p.add_argument("--once", action="store_true", help="one cycle, then exit (non-zero on failure)")
    p.set_defaults(func=cmd_sync)


__all__ = ["client_factory_for", "format_report", "hub_url", "load_token", "register", "store_token"]
