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
import dataclasses
import gc
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Unpack

import keyring
import keyring.errors

from kernel.errors import KeyringUnavailable, StationError, StoreError
from kernel.ids import uuid7
from station import keys, syncstate
from station.store import Station, default_data_dir, init_station, open_station
from sync.client import TLS_HINTS, ClientOptions, HubClient, HubError
from sync.engine import SyncEngine, SyncReport, SyncSettings

EXIT_OK, EXIT_USAGE, EXIT_STORE, EXIT_INPUT, EXIT_HUB = 0, 2, 3, 4, 5
HUB_URL_KEY = "hub_url"
SITE_NAME_KEY = syncstate.SITE_NAME_KEY


# ---- token and hub URL -------------------------------------------------------------------


def _token_user(install_id: str) -> str:
    return keys.token_user(install_id)  # one name, shared with station-side tools


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
    return syncstate.get_meta(st, HUB_URL_KEY)


def client_factory_for(
    st: Station, url: str | None = None, **client_kw: Unpack[ClientOptions]
) -> Callable[[], HubClient]:
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


def site_hub_factory(st: Station, **client_kw: Unpack[ClientOptions]) -> Callable[[], HubClient]:
    """The site hub route's ``client_factory``: its address (typed, or found by DNS-SD) and
    the pinned context (``sync.site_route``). Raises ``StoreError`` (``sync.not_enrolled``,
    ``site_hub.not_set``, ``site_hub.no_trust``)."""
    from sync.site_route import SiteHubRoute

    token = load_token(st.install_id)
    if not token:
        raise StoreError("sync.not_enrolled")
    return SiteHubRoute(st, token, **client_kw).client


# ---- enroll ------------------------------------------------------------------------------


class EnrollFailed(Exception):
    """Enrollment did not happen; ``code`` is stable, ``exit_code`` what the CLI returns."""

    def __init__(self, code: str, message: str, exit_code: int = EXIT_HUB) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.exit_code = exit_code


@dataclass(frozen=True)
class Enrolled:
    station_id: str
    site_code: str
    site_name: str
    created: bool  # the station was created here by this enrollment


def enroll_station(
    ddir: Path,
    hub: str,
    code: str,
    *,
    site_letter: str = "A",
    name: str = "",
    station_id: str | None = None,
    create: bool = True,
) -> Enrolled:
    """Enroll the station in ``ddir`` (or a new one) with a one-time code; store token and URL.

    An existing station (created by ``tramtiem init``/``provision``, or restored
    from a backup on a new laptop) keeps its id: the hub re-binds it to a new
    token (same site only). With ``create=False`` and no station here, nothing
    is created locally (the setup wizard confirms the site first); the token is
    stored under ``station_id`` all the same.
    """
    from station import replica
    from sync.protocol import EnrollRequest

    exists = (ddir / "station.json").exists()
    keys.check_backend()  # fail before the one-time code is spent
    st: Station | None = open_station(ddir) if exists else None
    try:
        sid = st.install_id if st is not None else (station_id or uuid7())
        try:
            with HubClient(hub) as client:
                resp = client.enroll(EnrollRequest(code=code, station_id=sid, station_name=name))
        except HubError as exc:
            raise EnrollFailed(exc.code, exc.message or "enrollment failed") from None
        if resp.station_id != sid:
            raise EnrollFailed("enroll.station_mismatch", "the hub answered for another station")
        if st is None and create:
            st = init_station(ddir, resp.site_code, station_letter=site_letter, install_id=sid)
        elif st is not None and st.site_code != resp.site_code.upper():
            raise EnrollFailed(
                "enroll.site_mismatch",
                f"this station belongs to site {st.site_code} but the code enrolls it at "
                f"{resp.site_code}; ask the hub admin for a code for {st.site_code}",
                EXIT_INPUT,
            )
        store_token(sid, resp.token)
        if st is not None:
            replica.set_meta(st, HUB_URL_KEY, hub.rstrip("/"))
            replica.set_meta(st, SITE_NAME_KEY, resp.site_name)
            if resp.relay_ca_pem:
                # How this desk will know its site's hub on the LAN (sync.site_route).
                replica.set_meta(st, replica.META_RELAY_CA, resp.relay_ca_pem)
        return Enrolled(sid, resp.site_code, resp.site_name, created=not exists and st is not None)
    finally:
        if st is not None:
            st.close()


def provision_enroller(ddir: Path, hub: str, code: str, site_letter: str) -> str:
    """``tramtiem provision``'s enrollment step (station.maintenance_cli cannot import sync)."""
    res = enroll_station(ddir, hub, code, site_letter=site_letter)
    return f"enrolled station {res.station_id} at site {res.site_code} ({res.site_name}) with {hub}"


def cmd_enroll(args: argparse.Namespace) -> int:
    ddir = Path(args.data_dir) if args.data_dir else default_data_dir()
    try:
        res = enroll_station(ddir, args.hub, args.code, site_letter=args.site_letter, name=args.name or "")
    except EnrollFailed as exc:
        if exc.code in TLS_HINTS:
            print(f"error: enrollment failed [{exc.code}]: {exc.message}", file=sys.stderr)
        elif exc.exit_code == EXIT_HUB and exc.code != "enroll.station_mismatch":
            print(f"error: enrollment failed [{exc.code}] {exc.message}".rstrip(), file=sys.stderr)
        else:
            print(f"error: {exc.message} [{exc.code}]", file=sys.stderr)
        return exc.exit_code
    print(f"enrolled station {res.station_id} at site {res.site_code} ({res.site_name}) with {args.hub}")
    return EXIT_OK


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
    line = ", ".join(parts) + ("; " + "; ".join(extra) if extra else "")
    if r.error in TLS_HINTS:
        # Not "offline": the line works, the certificate does not. Say what IT staff must do.
        line += f"\n  certificate problem: {TLS_HINTS[r.error]}"
    return line


def report_dict(r: SyncReport) -> dict[str, object]:
    """A cycle's report for ``--json`` (scripts, ``bench peer``): counts, codes, seconds."""
    return dataclasses.asdict(r)


#: The youngest generation is collected every this many new container objects (700 by default).
GC_GEN0_THRESHOLD = 20_000


def settle_heap() -> None:
    """Keep the garbage collector off the start-up heap and a batch's live rows (issue 15).

    As the hub's serving process does (``hub.app.settle_heap``, where full collections
    were a fifth of the CPU per pushed op): what the start-up imported goes to the
    permanent generation, and the youngest generation is collected every
    :data:`GC_GEN0_THRESHOLD` new container objects, not every 700 — a batch keeps
    thousands of rows, dicts and JSON strings alive until its answers are recorded, and
    every young collection walked them again. Reference counting still frees everything
    at once; at most that many objects of cyclic garbage wait for a collection.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])


def cmd_sync(args: argparse.Namespace) -> int:
    # The push pipeline hands work between two threads (the HTTP send and the outbox
    # reads/writes): with Python's default 5 ms GIL switch interval each hand-over can
    # wait a whole interval behind the other thread. The window does the same (ui/app.py).
    sys.setswitchinterval(0.001)
    settle_heap()
    ddir = Path(args.data_dir) if args.data_dir else default_data_dir()
    st = open_station(ddir)
    try:
        # --hub overrides the stored address for this run only (e.g. a hub reached
        # through another route today); enrollment stores the lasting one.
        try:
            factory = client_factory_for(st, args.hub.rstrip("/") if args.hub else None)
        except StoreError:
            print("error: this station is not enrolled; run: tramtiem enroll --hub URL --code CODE",
                  file=sys.stderr)
            return EXIT_USAGE
        route = "province"
        if getattr(args, "via_site_hub", False):
            try:
                factory = site_hub_factory(st)
            except StoreError as exc:
                print(f"error: {SITE_HUB_ERRORS.get(exc.code, exc.code)}", file=sys.stderr)
                return EXIT_USAGE
            route = "site_hub"
        engine = SyncEngine(st, factory, settings=SyncSettings(), route=route)
        if args.once:
            report = engine.run_once()
            print(json.dumps(report_dict(report)) if args.json else format_report(report))
            return EXIT_OK if report.ok else EXIT_HUB
        # Continuous mode in the foreground, for servers and scripts: Ctrl-C stops it.
        # The engine's own loop: backoff by kind of failure, long-poll pulls while idle.
        last: list[SyncReport] = []

        def show(report: SyncReport) -> None:
            last[:] = [report]
            print(format_report(report), flush=True)

        try:
            engine.run_forever(show)
        except KeyboardInterrupt:
            pass
        return EXIT_OK if (not last or last[0].ok) else EXIT_HUB
    finally:
        st.close()


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    explain: Callable[[StationError], str] | None = None,
    *,
    only: str | None = None,
) -> None:
    """Add ``enroll``, ``sync`` and ``site-hub`` to an argparse subparsers object.

    ``explain``: how a ``site-hub serve`` error is told to the user (``ui.cli`` gives the
    window's translations); the English text of the code otherwise. ``only``: that one
    command alone (``tramtiem sync`` parses its own arguments without ``site-hub``'s
    modules, which load the station's replica: issue 15, no-op start)."""
    if only in (None, "enroll"):
        _register_enroll(sub)
    if only in (None, "sync"):
        _register_sync(sub)
    if only in (None, "site-hub"):
        _register_site_hub(sub, explain)


def _register_enroll(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("enroll", help="enroll this station with the hub (one-time code)")
    p.add_argument("--hub", required=True, help="hub base URL, e.g. https://hub.example.vn")
    p.add_argument("--code", required=True, help="one-time enrollment code from the hub admin")
    p.add_argument("--data-dir", help="data directory (created if empty)")
    p.add_argument("--site-letter", default="A", help="this station's letter at the site (new stations)")
    p.add_argument("--name", default="", help="a name for this station shown at the hub")
    p.set_defaults(func=cmd_enroll)


def _register_sync(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sync", help="send waiting records to the hub and fetch changes")
    p.add_argument("--data-dir", help="data directory (default: the OS user-data dir)")
    p.add_argument("--hub", help="hub base URL for this run only (default: the one stored at enrollment)")
    p.add_argument("--once", action="store_true", help="one cycle, then exit (non-zero on failure)")
    p.add_argument("--json", action="store_true",
                   help="with --once: print the report as one JSON object (counts, codes, seconds)")
    p.add_argument("--via-site-hub", action="store_true",
                   help="sync through the site hub on the LAN (tramtiem site-hub set URL)")
    p.set_defaults(func=cmd_sync)


def _register_site_hub(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], explain: Callable[[StationError], str] | None
) -> None:
    from sync import site_hub_cli

    p = sub.add_parser("site-hub", help="the site hub on the LAN: set, clear or show it; "
                       "serve: this laptop is the site hub")
    p.add_argument("action", choices=["set", "clear", "show", "serve", "status", "stop"])
    p.add_argument(
        "address", nargs="?",
        help="with set: 'auto' (found on the LAN by DNS-SD) or the address IT staff type, "
        "e.g. 192.168.1.10 or https://192.168.1.10:8765 (a typed address wins)",
    )
    p.add_argument("--fingerprint", metavar="SHA256",
                   help="with set: also pin the site hub's certificate (64 hex digits, from "
                   "`tramtiem-hub relay enroll` on the site hub)")
    p.add_argument("--insecure-http", action="store_true",
                   help="with set: plain HTTP to the site hub, no certificate (tests and "
                   "development only: records cross the LAN in clear)")
    p.add_argument("--data-dir", help="data directory (default: the OS user-data dir)")
    site_hub_cli.add_arguments(p)
    p.set_defaults(func=cmd_site_hub, explain=explain)


SITE_HUB_ERRORS = {
    "sync.not_enrolled": "this station is not enrolled; run: tramtiem enroll --hub URL --code CODE",
    "site_hub.not_set": "no site hub; run: tramtiem site-hub set auto (or set ADDRESS)",
    "site_hub.no_trust": (
        "this desk has no way to know its site hub: it was enrolled before the province issued "
        "site hub certificates; enroll it again (tramtiem enroll), or give the site hub's "
        "certificate fingerprint (tramtiem site-hub set ADDRESS --fingerprint SHA256)"
    ),
}


def cmd_site_hub(args: argparse.Namespace) -> int:
    """``tramtiem site-hub set auto|ADDRESS [--fingerprint FP] | clear | show | serve | status | stop``
    (docs/site-hub.md)."""
    if args.action in ("serve", "status", "stop"):
        from sync import site_hub_cli

        run = {"serve": site_hub_cli.cmd_serve, "status": site_hub_cli.cmd_status,
               "stop": site_hub_cli.cmd_stop}[args.action]
        return run(args, args.explain) if args.explain is not None else run(args)
    from station import replica
    from sync.discovery import DiscoveryError
    from sync.pinning import normalize_fingerprint
    from sync.site_route import META_PIN, normalise_address, setting

    ddir = Path(args.data_dir) if args.data_dir else default_data_dir()
    st = open_station(ddir)
    try:
        if args.action == "show":
            cfg = setting(st)
            if cfg.address is None:
                print("site hub: none (this desk syncs with the province only)")
                return EXIT_OK
            where = "found on the LAN (DNS-SD)" if cfg.auto else cfg.address
            if cfg.insecure_http:
                trust = "NONE: plain HTTP (--insecure-http, tests only)"
            else:
                trust = " + ".join(
                    ([f"the province's relay CA for site {st.site_code}"] if cfg.has_relay_ca else [])
                    + ([f"pinned certificate {cfg.pin}"] if cfg.pin else [])
                ) or "none: re-enroll this desk or give --fingerprint"
            print(f"site hub: {where}")
            print(f"trusted by: {trust}")
            return EXIT_OK
        if args.action == "clear":
            replica.set_site_hub_url(st, None)
            replica.set_meta(st, META_PIN, "")
            print("site hub cleared: this desk syncs with the province only")
            return EXIT_OK
        try:
            address = normalise_address(args.address or "", st.site_code, insecure_http=args.insecure_http)
            pin = normalize_fingerprint(args.fingerprint) if args.fingerprint else ""
        except (DiscoveryError, ValueError) as exc:
            print(f"error: site hub address: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if not args.insecure_http and not pin and not replica.get_meta(st, replica.META_RELAY_CA):
            print(f"error: {SITE_HUB_ERRORS['site_hub.no_trust']}", file=sys.stderr)
            return EXIT_USAGE
        replica.set_site_hub_url(st, address)
        replica.set_meta(st, META_PIN, pin)
        print(f"site hub set to {'auto (found on the LAN by DNS-SD)' if address == 'auto' else address}")
        return EXIT_OK
    finally:
        st.close()


__all__ = [
    "EnrollFailed",
    "Enrolled",
    "client_factory_for",
    "enroll_station",
    "format_report",
    "hub_url",
    "load_token",
    "provision_enroller",
    "register",
    "report_dict",
    "site_hub_factory",
    "store_token",
]
