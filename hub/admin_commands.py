"""The hub's administration commands (``tramtiem-hub site|enroll-code|station|audit|…``).

One function per command, ``(args, db) -> exit status``; :mod:`hub.cli` parses
the arguments and picks one from :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hub import counters, service
from hub.cli import EXIT_ERROR, SITE_CODE_RE, default_data_dir
from hub.db import Database
from hub.errors import HubError
from hub.ingest import utc_now


def print_table(rows: Sequence[Mapping[str, object]], cols: list[str]) -> None:
    widths = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in rows]) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print(
            "  ".join(
                str(r.get(c, "") if r.get(c) is not None else "-").ljust(widths[c]) for c in cols
            )
        )


def _site(args: argparse.Namespace, db: Database) -> int:
    """Add a site."""
    code = args.code.strip().upper()
    if not SITE_CODE_RE.match(code):
        raise HubError(400, "site.invalid_code", "site code: 2-32 of A-Z, 0-9 and '-'")
    service.add_site(db, code, args.name.strip(), args.province, now=utc_now())
    print(f"site {code} added")
    return 0


def _enroll_code(args: argparse.Namespace, db: Database) -> int:
    """Print a one-time enrollment code for a site."""
    if not 0 < args.ttl_hours <= 24 * 30:
        raise HubError(400, "enroll.bad_ttl", "--ttl-hours must be between 0 and 720")
    code = service.new_enrollment_code(
        db, args.site.strip().upper(), ttl_hours=args.ttl_hours, now=utc_now()
    )
    print(code)
    return 0


def _station(args: argparse.Namespace, db: Database) -> int:
    """List, revoke, unrevoke a station, or write off what it owes."""
    if args.station_cmd == "list":
        rows = service.list_stations(db)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            print_table(
                rows,
                ["id", "site_code", "name", "revoked", "revoked_at", "last_seen", "clock_skew_ms"],
            )
    elif args.station_cmd == "unrevoke":
        service.unrevoke_station(db, args.station_id, actor=args.by, now=utc_now())
        print(
            f"station {args.station_id} may enroll again with a fresh code "
            "(its old token stays refused)"
        )
    elif args.station_cmd == "write-off":
        res = counters.write_off(
            db, args.station_id, reason=args.reason, actor=args.by, now=utc_now()
        )
        if args.json:
            print(json.dumps({"id": res.id, "station_id": res.station_id,
                              "site_code": res.site_code, "doses": res.doses,
                              "days": res.days}, indent=2))
        else:
            print(f"{res.doses} dose(s) of station {res.station_id} written off ({res.id})")
    else:
        service.revoke_station(
            db, args.station_id, actor=args.by, reason=args.reason, now=utc_now()
        )
        print(
            f"station {args.station_id} revoked (permanent until `station unrevoke`); "
            "its last tally still counts, marked revoked"
        )
    return 0


def _relay(args: argparse.Namespace, db: Database) -> int:
    """Relay credentials of site hubs: make a code, list, revoke; enroll this hub as one."""
    from hub import relay

    if args.relay_cmd == "code":
        if not 0 < args.ttl_hours <= 24 * 30:
            raise HubError(400, "enroll.bad_ttl", "--ttl-hours must be between 0 and 720")
        print(relay.new_relay_code(db, args.site.strip().upper(), ttl_hours=args.ttl_hours, now=utc_now(),
                                   replaces=args.replaces))
    elif args.relay_cmd == "list":
        rows = relay.list_relays(db)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            print_table(rows, ["id", "site_code", "name", "revoked", "enrolled_at", "last_seen", "cert_fingerprint"])
    elif args.relay_cmd == "revoke":
        certs = relay.revoke_relay(db, args.relay_id, actor=args.by, reason=args.reason, now=utc_now())
        print(f"relay {args.relay_id} revoked: its token is refused from now on; {certs} certificate(s) "
              "revoked now, refused by the site's desks once each has synced with the province")
    else:
        from hub.site_hub import enroll
        from hub.upstream import UpstreamError

        # The TLS key and the province's certificate live beside the site hub's database.
        data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
        try:
            resp = enroll(db, args.province, args.code, name=args.name, data_dir=data_dir, now=utc_now())
        except UpstreamError as exc:
            raise HubError(400, exc.code, "the province refused or could not be reached") from None
        fp = (resp.tls or {}).get("fingerprint", "")
        print(
            f"site hub of {resp.site_code} ({resp.site_name}) enrolled as relay {resp.relay_id}; "
            f"certificate from the province, SHA-256 {fp}; "
            f"start it with: tramtiem-hub serve --relay-to {args.province} --host 0.0.0.0 --announce"
        )
    return 0


def _audit(args: argparse.Namespace, db: Database) -> int:
    """The hub's audited admin actions."""
    rows = service.audit_log(db, limit=max(1, min(args.limit, 10_000)))
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print_table(rows, ["id", "at", "actor", "action", "target", "detail"])
    return 0


def _counters(args: argparse.Namespace, db: Database) -> int:
    """Check the dose counters against the doses (exit 1 on a difference), or rebuild them."""
    if args.counters_cmd == "check":
        with db.read() as s:
            diffs = counters.verify(s)
        for d in diffs[:50]:
            print(d)
        print("counters agree with the doses" if not diffs else f"{len(diffs)} difference(s)")
        return 0 if not diffs else EXIT_ERROR
    with db.write() as s:
        n = counters.rebuild(s)
    print(f"counters rebuilt: {n} station-day rows")
    return 0


def _review(args: argparse.Namespace, db: Database) -> int:
    """List review items."""
    status = None if args.status == "all" else args.status
    items = service.list_reviews(db, args.site, status)
    if args.json:
        print(
            json.dumps(
                [i.model_dump(mode="json") for i in items], indent=2, ensure_ascii=False
            )
        )
    else:
        # The table shows kinds and ids only; values (possibly personal) via --json.
        print_table(
            [
                {
                    "id": i.id,
                    "kind": i.kind,
                    "priority": i.priority,
                    "status": i.status,
                    "entity": f"{i.entity_type}/{i.entity_id}",
                    "sites": ",".join(i.site_codes),
                    "created_at": i.created_at,
                }
                for i in items
            ],
            ["id", "kind", "priority", "status", "entity", "sites", "created_at"],
        )
    return 0


def _import_bundle(args: argparse.Namespace, db: Database) -> int:
    """Apply a sneakernet bundle."""
    from hub.bundles import import_bundle_file

    summary = import_bundle_file(db, Path(args.file)).as_dict()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(", ".join(f"{k} {v}" for k, v in summary.items()))
    return 0


def _report(args: argparse.Namespace, db: Database) -> int:
    """Given vs received per site."""
    sites = [args.site.strip().upper()] if args.site else service.all_site_codes(db)
    summaries = [service.site_summary(db, s).model_dump(mode="json") for s in sites]
    if args.json:
        print(json.dumps(summaries, indent=2))
    else:
        print_table(
            summaries,
            [
                "site_code",
                "given",
                "received",
                "gap",
                "written_off",
                "revoked_gap",
                "pending_at_stations",
                "oldest_pending_at",
                "last_contact",
                "stations",
            ],
        )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], int]] = {
    "site": _site,
    "enroll-code": _enroll_code,
    "station": _station,
    "relay": _relay,
    "audit": _audit,
    "counters": _counters,
    "review": _review,
    "import-bundle": _import_bundle,
    "report": _report,
}
