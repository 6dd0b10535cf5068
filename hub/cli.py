"""The ``tramtiem-hub`` command: serve, migrate and administer a hub.

    tramtiem-hub serve [--host 127.0.0.1] [--port 8765] [--workers N] [limits, see --help]
    tramtiem-hub migrate
    tramtiem-hub site add CODE --name NAME [--province P]
    tramtiem-hub enroll-code SITE [--ttl-hours 48]
    tramtiem-hub station list | station revoke STATION_ID [--by NAME] [--reason TEXT]
    tramtiem-hub station unrevoke STATION_ID [--by NAME]
    tramtiem-hub station write-off STATION_ID --reason TEXT --by NAME [--json]
    tramtiem-hub audit list [--json]
    tramtiem-hub counters check | counters rebuild
    tramtiem-hub review list [--site S] [--status open|resolved|all] [--json]
    tramtiem-hub report [--site S] [--json]
    tramtiem-hub relay code --site S [--ttl-hours 48] [--replaces RELAY_ID] | relay list [--json]
    tramtiem-hub relay revoke RELAY_ID [--by NAME] [--reason TEXT]
    tramtiem-hub relay enroll --code C --province URL [--name N]   (on the site hub)
    tramtiem-hub serve --relay-to URL [--announce] [--insecure-http]  (a site hub, docs/site-hub.md)
    tramtiem-hub import-bundle FILE [--json]
    tramtiem-hub import-registrations FILE --site CODE --date D [--mapping M] [--commit]
    tramtiem-hub dashboard-user | allocation | area ...   (see hub/dashboard/cli.py)

Every command takes ``--database-url URL`` (PostgreSQL: ``postgresql+psycopg://…``)
or ``--data-dir D`` (a SQLite file ``D/hub.db``; default: the OS user-data dir).
Errors print one line with a code to stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from hub import importer
from hub.dashboard import cli as dashboard_cli
from hub.db import Database, migrate, sqlite_url
from hub.errors import HubError

if TYPE_CHECKING:  # only for the types: `serve` loads these when it runs
    from hub.routes.context import HubContext
    from hub.server import HubServer, ServerLimits
    from hub.settings import HubSettings

SITE_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
EXIT_USAGE = 2
ROSTER_ENV = "TRAMTIEM_HUB_RELAY_ROSTER_S"  # a site hub's roster refresh, seconds (default 60)
EXIT_ERROR = 1


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tramtiem-hub", "TramTiem"))


def database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return str(args.database_url)
    env = os.environ.get("TRAMTIEM_HUB_DATABASE_URL")
    if env:
        return env
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    return sqlite_url(data_dir / "hub.db")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in --data-dir)")
    common.add_argument("--data-dir", help="directory for the SQLite hub.db")

    p = argparse.ArgumentParser(prog="tramtiem-hub", description="Trạm Tiêm hub", parents=[common])
    sub = p.add_subparsers(dest="cmd", required=True)
    # In the order --help lists them.
    _add_serve_parser(sub, common)
    sub.add_parser("migrate", parents=[common], help="create or upgrade the hub database")
    _add_site_parsers(sub, common)
    _add_station_parser(sub, common)
    _add_relay_parser(sub, common)
    _add_record_parsers(sub, common)
    dashboard_cli.register(sub, common)
    importer.add_parser(sub, common)
    return p


_Sub = argparse._SubParsersAction  # argparse's sub-command collection (no public name)


def _add_serve_parser(sub: _Sub[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", parents=[common], help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--relay-to",
        metavar="URL",
        help="run as the site hub relaying to this province hub (after `relay enroll`); "
        "serves HTTPS with the certificate the province issued (docs/site-hub.md)",
    )
    serve.add_argument(
        "--announce",
        action="store_true",
        help="with --relay-to: announce the site hub on the LAN by DNS-SD/mDNS so desks find it",
    )
    serve.add_argument(
        "--announce-address",
        metavar="IPV4",
        help="with --announce: the one LAN address to announce (default: every non-loopback IPv4)",
    )
    serve.add_argument(
        "--insecure-http",
        action="store_true",
        help="with --relay-to: serve plain HTTP without the province's certificate "
        "(tests and development only: personal data crosses the LAN in clear)",
    )
    serve.add_argument(
        "--exit-with-parent", action="store_true",
        help="with --relay-to: stop when stdin closes (run as a child of `tramtiem site-hub serve` "
        "or the station window: it ends with its parent, however the parent ends)",
    )
    serve.add_argument(
        "--relay-retry-max-s", type=float, default=30.0, metavar="S",
        help="a site hub whose line is down tries the province again at least this often (30)",
    )
    lim = serve.add_argument_group(
        "limits (per worker; also TRAMTIEM_HUB_<NAME> in the environment, e.g. "
        "TRAMTIEM_HUB_HEADER_TIMEOUT_S)"
    )
    lim.add_argument("--header-timeout-s", type=float,
                     help="request line and headers must arrive within (default 15)")
    lim.add_argument("--body-timeout-s", type=float,
                     help="the whole request body must arrive within (default 120)")
    lim.add_argument("--keep-alive-s", type=float,
                     help="an idle kept-alive connection is closed after (default 5)")
    lim.add_argument("--max-connections", type=int,
                     help="open connections; more are answered 503 (default 1000)")
    lim.add_argument("--max-concurrent-requests", type=int,
                     help="requests in flight; more get 503 server.busy (default 64)")
    lim.add_argument("--max-body-bytes", type=int,
                     help="request body after gunzip, with a station token (default 4 MiB)")
    lim.add_argument("--max-preauth-body-bytes", type=int,
                     help="request body without a station token (default 64 KiB)")


def _add_site_parsers(sub: _Sub[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    site = sub.add_parser("site", parents=[common], help="manage sites")
    site_sub = site.add_subparsers(dest="site_cmd", required=True)
    add = site_sub.add_parser("add", parents=[common])
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--province")

    code = sub.add_parser("enroll-code", parents=[common], help="make a one-time enrollment code")
    code.add_argument("site")
    code.add_argument("--ttl-hours", type=float, default=48.0)


def _add_station_parser(sub: _Sub[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    station = sub.add_parser("station", parents=[common], help="list or revoke stations")
    st_sub = station.add_subparsers(dest="station_cmd", required=True)
    st_sub.add_parser("list", parents=[common]).add_argument("--json", action="store_true")
    rv = st_sub.add_parser(
        "revoke", parents=[common], help="revoke a lost or stolen laptop (its count stays, marked)"
    )
    rv.add_argument("station_id")
    rv.add_argument("--by", default=os.environ.get("USER") or "cli", help="who revokes it (audit)")
    rv.add_argument("--reason", default="", help="why (audit)")
    un = st_sub.add_parser(
        "unrevoke", parents=[common], help="lift a revocation: the station may enroll again"
    )
    un.add_argument("station_id")
    un.add_argument("--by", default=os.environ.get("USER") or "cli", help="who lifts it (audit)")
    wo = st_sub.add_parser(
        "write-off",
        parents=[common],
        help="write off the doses a (revoked) station still owes, with a reason (audited)",
    )
    wo.add_argument("station_id")
    wo.add_argument("--reason", required=True, help="why these doses will never arrive")
    wo.add_argument("--by", required=True, help="the supervisor who decides (audit)")
    wo.add_argument("--json", action="store_true")


def _add_relay_parser(sub: _Sub[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    relay = sub.add_parser("relay", parents=[common], help="site hubs relaying a site's desks")
    r_sub = relay.add_subparsers(dest="relay_cmd", required=True)
    code = r_sub.add_parser("code", parents=[common], help="a one-time code for a site's site hub")
    code.add_argument("--site", required=True)
    code.add_argument("--ttl-hours", type=float, default=48.0)
    code.add_argument(
        "--replaces", metavar="RELAY_ID", default=None,
        help="the site hub this one replaces: revoked (token and certificates) when the code is used",
    )
    r_sub.add_parser("list", parents=[common]).add_argument("--json", action="store_true")
    rv = r_sub.add_parser("revoke", parents=[common], help="refuse a site hub's relay token")
    rv.add_argument("relay_id")
    rv.add_argument("--by", default=os.environ.get("USER") or "cli", help="who revokes it (audit)")
    rv.add_argument("--reason", default="", help="why (audit)")
    en = r_sub.add_parser(
        "enroll", parents=[common], help="on the site hub: enroll with the province using a relay code"
    )
    en.add_argument("--code", required=True)
    en.add_argument("--province", required=True, metavar="URL")
    en.add_argument("--name", default="")


def _add_record_parsers(sub: _Sub[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Audit log, counters, review items, sneakernet bundles, the given-vs-received report."""
    audit = sub.add_parser("audit", parents=[common], help="the hub's audited admin actions")
    au_sub = audit.add_subparsers(dest="audit_cmd", required=True)
    al = au_sub.add_parser("list", parents=[common])
    al.add_argument("--json", action="store_true")
    al.add_argument("--limit", type=int, default=200)

    cnt = sub.add_parser("counters", parents=[common], help="check or rebuild the dose counters")
    cnt_sub = cnt.add_subparsers(dest="counters_cmd", required=True)
    cnt_sub.add_parser("check", parents=[common], help="recount the doses and compare (a full scan)")
    cnt_sub.add_parser("rebuild", parents=[common], help="recount the held counters from the doses")

    review = sub.add_parser("review", parents=[common], help="review items")
    rv_sub = review.add_subparsers(dest="review_cmd", required=True)
    rl = rv_sub.add_parser("list", parents=[common])
    rl.add_argument("--site")
    rl.add_argument("--status", choices=["open", "resolved", "all"], default="open")
    rl.add_argument("--json", action="store_true")

    bundle = sub.add_parser("import-bundle", parents=[common],
                            help="apply a station's sneakernet bundle (idempotent, like a push)")
    bundle.add_argument("file")
    bundle.add_argument("--json", action="store_true")

    report = sub.add_parser("report", parents=[common], help="given vs received per site")
    report.add_argument("--site")
    report.add_argument("--json", action="store_true")


def _serve(args: argparse.Namespace, url: str) -> int:
    import uvicorn

    from hub.app import HubSettings, create_app
    from hub.server import ServerLimits, uvicorn_config, uvicorn_options

    try:
        limits = ServerLimits.from_env(
            header_timeout_s=args.header_timeout_s,
            body_timeout_s=args.body_timeout_s,
            keep_alive_s=args.keep_alive_s,
            max_connections=args.max_connections,
        )
        app_limits = {
            "max_concurrent_requests": args.max_concurrent_requests,
            "max_body_bytes": args.max_body_bytes,
            "max_preauth_body_bytes": args.max_preauth_body_bytes,
        }
        settings = HubSettings.from_env(url, migrate_on_start=False, **app_limits)
    except ValueError as exc:
        raise HubError(400, "serve.bad_limit", str(exc)) from None
    if (args.announce or args.insecure_http or args.exit_with_parent) and not args.relay_to:
        raise HubError(400, "serve.relay_only", "--announce and --insecure-http are for a site hub (--relay-to)")
    migrate(url)
    if args.relay_to:
        return _serve_site_hub(args, url, settings, limits)
    if args.workers > 1:
        # Worker processes build the app from the environment (already migrated above).
        os.environ["TRAMTIEM_HUB_DATABASE_URL"] = url
        for name, value in app_limits.items():
            if value is not None:
                os.environ[f"TRAMTIEM_HUB_{name.upper()}"] = str(value)
        uvicorn.run(
            "hub.app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            **uvicorn_options(limits),
        )
    else:
        from hub.server import HubServer

        server = HubServer(
            uvicorn_config(create_app(settings), args.host, args.port, limits)
        )
        server.run()
        if not server.started:
            return 3  # uvicorn has logged why (e.g. the port is taken)
    return 0


def _serve_site_hub(args: argparse.Namespace, url: str, settings: HubSettings, limits: ServerLimits) -> int:
    """The site hub: the same app, one process, with the relay tasks (hub/site_hub.py).

    HTTPS with the certificate the province issued at ``relay enroll`` (``--insecure-http``
    for tests and development only); ``--announce``: DNS-SD on the LAN while it serves.
    """
    from contextlib import ExitStack

    from hub.app import create_app
    from hub.server import HubServer, uvicorn_config
    from hub.site_hub import ROSTER_EVERY_S, SiteHub, load_link, set_province_url, tls_identity

    if args.workers != 1:
        raise HubError(400, "serve.relay_workers", "a site hub runs one worker (--workers 1)")
    db = Database(url)
    try:
        if load_link(db) is None:
            raise HubError(
                400, "relay.not_enrolled",
                "enroll this hub first: tramtiem-hub relay enroll --code C --province URL",
            )
        set_province_url(db, args.relay_to)  # the province moved: the address given wins
        link = load_link(db)
        assert link is not None
    finally:
        db.dispose()
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    identity = None if args.insecure_http else tls_identity(data_dir)
    if identity is None and not args.insecure_http:
        raise HubError(
            400, "relay.no_certificate",
            f"no certificate from the province in {data_dir}: enroll again with a new relay code "
            "(tramtiem-hub relay enroll); --insecure-http serves plain HTTP for tests only",
        )
    if args.announce and identity is None:
        raise HubError(400, "serve.announce_tls", "--announce needs the province's certificate (not --insecure-http)")
    if args.insecure_http:
        logging.getLogger(__name__).warning(
            "site hub serving PLAIN HTTP (--insecure-http): desks' data crosses the LAN in clear"
        )
    site: list[SiteHub] = []

    try:
        # How often the site's roster is read again (a revoked desk is refused from then on).
        roster_every_s = float(os.environ.get(ROSTER_ENV, "") or ROSTER_EVERY_S)
    except ValueError:
        raise HubError(400, "serve.bad_limit", f"{ROSTER_ENV}: seconds") from None
    if not 1.0 <= roster_every_s <= 3600.0:
        raise HubError(400, "serve.bad_limit", f"{ROSTER_ENV}: 1..3600 seconds")

    def hook(ctx: HubContext) -> None:
        hub = SiteHub(ctx.db, link, roster_every_s=roster_every_s,
                      backoff_max_s=max(0.5, min(600.0, args.relay_retry_max_s)))
        hub.install(ctx)
        site.append(hub)

    tls_kw: dict[str, str] = {}
    if identity is not None:
        tls_kw = {"ssl_certfile": str(identity[0]), "ssl_keyfile": str(identity[1])}
    server = HubServer(
        uvicorn_config(create_app(settings, ctx_hook=hook), args.host, args.port, limits, **tls_kw)
    )
    site[0].start()
    if args.exit_with_parent:
        _exit_on_stdin_eof(server)
    try:
        with ExitStack() as stack:
            if args.announce and identity is not None:
                from sync.discovery import DiscoveryError, announce

                try:
                    stack.enter_context(
                        announce(link.site_code, args.port, identity[2], address=args.announce_address)
                    )
                except DiscoveryError as exc:
                    raise HubError(400, exc.code, str(exc)) from None
            server.run()
    finally:
        site[0].stop()
    return 0 if server.started else 3


def _exit_on_stdin_eof(server: HubServer) -> None:
    """Shut down cleanly when stdin reaches its end: the parent closed it, or died."""
    import threading

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        server.should_exit = True

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def run(args: argparse.Namespace) -> int:
    # Loaded here: `serve` needs none of the administration (nor hub.service behind it).
    from hub import admin_commands

    url = database_url(args)
    if args.cmd == "serve":
        return _serve(args, url)
    migrate(url)  # every command works on a current schema
    if args.cmd == "migrate":
        print("hub database is up to date")
        return 0
    db = Database(url)
    try:
        if args.cmd == "import-registrations":
            return importer.run_cli(args, db)
        if args.cmd in dashboard_cli.COMMANDS:
            dashboard_cli.run(args, db)
            return 0
        command = admin_commands.COMMANDS.get(args.cmd)
        return command(args, db) if command is not None else 0
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except HubError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        # Database errors can quote data: name the kind only.
        print(
            f"error: {type(exc).__name__} (is the database reachable and the URL right?)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
