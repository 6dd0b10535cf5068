"""Pre-registration lists imported at the hub: ``tramtiem-hub import-registrations``.

The district often holds the list (the app's registrations, an employer's roster)
before the site does. Importing it at the hub puts the people on the site's list on
every station of that site with their next pull, without a USB stick.

Same file reading, mapping and row checks as the station (``station.exchange``), so
one mapping file serves both and the report reads the same. The differences:

* known people are found in the hub's database (ID number, active persons);
* a commit applies one ``register_person`` (new person) or ``add_registration``
  (known person) **op of hub origin** per row through the hub's own ingest (new
  people through the bulk executor, ``hub.apply.bulk``, the rest through
  ``hub.ingest.apply_op``), so the person, the registration, the person-site link and
  the ``change_log`` rows the stations pull are written exactly as for a pushed op,
  with the ops ledgered in ``applied_op`` (station ``hub``);
* all rows in **one** transaction: if any op is refused, nothing is kept.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import counters
from hub.apply.bulk import BulkRun
from hub.db import Database
from hub.effects import Numbering
from hub.errors import HubError
from hub.ingest import apply_op, payload_hash, record_applied, utc_now
from hub.models import EnrolledStation, Person, Registration, Site
from hub.timestamps import utc_iso_ms
from kernel import exchange
from kernel.chunks import in_chunks
from kernel.cliargs import parse_day_arg
from kernel.clock import site_today
from kernel.errors import ValidationError
from kernel.ids import uuid7
from kernel.ops import AddRegistrationP, RegisterPersonP, RegP, build, person_payload, wire
from sync.protocol import Op

log = logging.getLogger(__name__)

HUB_ORIGIN = "hub"  # the ledger's station id for ops made at the hub
_FAST_CHUNK = 2000  # ops looked up together by the bulk executor


@dataclass(frozen=True, slots=True)
class HubImportResult:
    site_code: str
    day: str
    people_added: int
    registrations_added: int
    skipped: int
    first_server_seq: int | None


def _state(
    s: Session, site: str, day: str, numbers: list[str]
) -> tuple[dict[str, str], set[str], set[tuple[str, str, str]]]:
    """The hub's view: (ID number -> active person, people expected that day, no-ID keys)."""
    known: dict[str, str] = {}
    for chunk in in_chunks(sorted(set(numbers))):
        rows = s.execute(
            select(Person.id_key, Person.id).where(Person.id_key.in_(chunk))
            .order_by(Person.created_at, Person.id)
        ).all()
        for number, pid in rows:
            known.setdefault(str(number), str(pid))  # the earliest, as merges keep it
    regs = s.execute(
        select(Registration.person_id, Person.id_number, Person.name_fold, Person.birth, Person.phone)
        .join(Person, Person.id == Registration.person_id)
        .where(Registration.site_code == site, Registration.day == day)
    ).all()
    expected = {str(r[0]) for r in regs}
    no_id = {(str(r[2]), str(r[3]), str(r[4] or "")) for r in regs if not r[1]}
    return known, expected, no_id


def _check_site(s: Session, site: str) -> None:
    if s.get(Site, site) is None:
        raise HubError(404, "site.not_found", "no such site")


def dry_run(
    db: Database,
    site: str,
    path: Path | str,
    day: date,
    mapping: exchange.ColumnMapping | None = None,
    *,
    today: date | None = None,
) -> exchange.ImportPlan:
    """Check a list for ``site`` and ``day`` against the hub's data; writes nothing."""
    mapping = mapping or exchange.load_mapping()
    today = today or site_today(utc_now)
    if day < today:
        raise HubError(400, "day.past", "the day is in the past")
    try:
        cf = exchange.check_file(path, mapping, today=today)
    except ValidationError as exc:
        codes = sorted({i.code for i in exc.issues})
        raise HubError(400, codes[0], "the file cannot be imported: " + ", ".join(codes)) from None
    with db.read() as s:
        _check_site(s, site)
        known, expected, no_id = _state(
            s, site, day.isoformat(), [str(v["id_number"]) for _n, _p, v in cf.checked if v["id_number"]]
        )
    return exchange.make_plan(cf, day, mapping, known=known, expected=expected, no_id_expected=no_id)


def _op(row: exchange.ImportRow, day: str, import_ref: str, now: str, person_id: str | None) -> Op:
    reg_id = uuid7()
    reg = {"id": reg_id, "day": day, "source": "import", "status": "expected",
           "queue_label": None, "import_ref": import_ref[:64]}
    if person_id is not None:
        return Op(op_id=uuid7(), op_seq=row.row, op_type="add_registration",
                  entity_type="registration", entity_id=reg_id,
                  payload=wire(build(AddRegistrationP, registration=build(RegP, **reg, person_id=person_id))),
                  hlc="", recorded_at=now, user_id=None)
    # The same payload as people.add_expected at a station (kernel.ops.person_payload).
    payload = build(RegisterPersonP, person=person_payload(row.values, False), registration=build(RegP, **reg))
    return Op(op_id=uuid7(), op_seq=row.row, op_type="register_person", entity_type="person",
              entity_id=uuid7(), payload=wire(payload), hlc="", recorded_at=now, user_id=None)


def _apply_all(s: Session, station: EnrolledStation, ops: list[Op], now: str) -> int | None:
    """Apply the import's ops in order; returns the first server_seq. Any refusal raises.

    New people (``register_person``) go through :class:`hub.apply.bulk.BulkRun` in
    chunks; an op it declines (a same-name-and-phone twin, say) and every
    ``add_registration`` go through :func:`hub.ingest.apply_op`. An
    ``add_registration`` of a known person cannot change what the chunk looked
    up (new people's ids, ID numbers, twins), so the chunk goes on; after a
    declined ``register_person`` the rest of the chunk is looked up again.
    """
    numbering = Numbering()
    firsts: dict[int, int | None] = {}

    def refused(op: Op, reason: str | None) -> HubError:
        # One refusal undoes the whole import: never half a list.
        return HubError(422, "import.row_refused",
                        f"row {op.op_seq} was refused ({reason}); nothing was imported",
                        row=op.op_seq, reason=reason)

    def flush(run: BulkRun) -> None:
        for index, first, _led in run.flush():
            firsts[index] = first

    def new_run(start: int, end: int) -> BulkRun:
        run = BulkRun(
            s, station.site_code, HUB_ORIGIN, "import", now, numbering, echo=False, trusted=True
        )
        run.load([o for o in ops[start:end] if o.op_type == "register_person"])
        return run

    for start in range(0, len(ops), _FAST_CHUNK):
        end = min(len(ops), start + _FAST_CHUNK)
        run = new_run(start, end)
        for i in range(start, end):
            op = ops[i]
            digest = payload_hash(op)
            if op.op_type == "register_person" and run.try_apply(i, op, digest):
                continue
            flush(run)
            res, first = apply_op(
                s, station, op, now=now, skewed=False, numbering=numbering, trusted=True
            )
            if res.status not in ("applied", "conflict_queued"):
                raise refused(op, res.reason)
            record_applied(numbering, station, "import", op, digest, res, first, now)
            firsts[i] = first
            if op.op_type == "register_person":
                run = new_run(i + 1, end)
        flush(run)
    counters.flush(s)  # (registrations move no dose counter; kept so the clock stays last)
    numbering.write(s)
    return next((numbering.seq(firsts[i]) for i in sorted(firsts) if firsts[i] is not None), None)


def commit(db: Database, site: str, plan: exchange.ImportPlan) -> HubImportResult:
    """Apply every good row as a hub-origin op, in one transaction (all or nothing)."""
    now = utc_iso_ms(utc_now())

    def run(s: Session) -> HubImportResult:
        _check_site(s, site)
        rows = [r for r in plan.rows if r.status != "already_expected"]
        # Look again inside the transaction: another import may have run since the dry run.
        known, expected, no_id = _state(
            s, site, plan.day, [str(r.values["id_number"]) for r in rows if r.values.get("id_number")]
        )
        # Not added to the session: it only tells the appliers which site this is for.
        station = EnrolledStation(id=HUB_ORIGIN, site_code=site, name="hub import", token_hash="",
                          revoked=0, enrolled_at=now)
        added_people = added_regs = skipped = 0
        # First the decisions (rows of the same person later in the file are skipped),
        # then the ops: new people through the bulk executor, the rest op by op.
        ops: list[Op] = []
        for r in rows:
            number = r.values.get("id_number")
            pid = known.get(str(number)) if number else None
            if (pid is not None and pid in expected) or (
                not number and exchange.no_id_key(r.values) in no_id
            ):
                skipped += 1
                continue
            op = _op(r, plan.day, plan.import_ref, now, pid)
            ops.append(op)
            if op.op_type == "register_person":
                added_people += 1
                if number:
                    known[str(number)] = op.entity_id
                else:
                    no_id.add(exchange.no_id_key(r.values))
            added_regs += 1
            expected.add(pid or op.entity_id)
        first = _apply_all(s, station, ops, now)
        return HubImportResult(site, plan.day, added_people, added_regs,
                               skipped + (len(plan.rows) - len(rows)), first)

    result = db.run_write(run)
    log.info("hub import for %s on %s: %d registrations", site, plan.day, result.registrations_added)
    return result


# ---- the command ---------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("import-registrations", parents=[common],
                       help="check (and with --commit import) a site's pre-registration list")
    p.add_argument("file", type=Path, help=".xlsx or .csv file")
    p.add_argument("--site", required=True, help="site code the people are expected at")
    p.add_argument("--date", required=True, help="the day, dd/mm/yyyy or yyyy-mm-dd")
    p.add_argument("--mapping", help="column mapping JSON (default: the shipped placeholder)")
    p.add_argument("--commit", action="store_true", help="import the good rows (all or nothing)")


def run_cli(args: argparse.Namespace, db: Database) -> int:
    """Dry run (prints the row report; exit 1 when rows are refused) or ``--commit``."""

    try:
        day = parse_day_arg(args.date)
        mapping = exchange.load_mapping(args.mapping)
    except argparse.ArgumentTypeError as exc:
        raise HubError(400, "param.invalid", str(exc)) from None
    except ValidationError as exc:
        raise HubError(400, sorted(exc.codes())[0], "the mapping file cannot be used") from None
    site = args.site.strip().upper()
    plan = dry_run(db, site, args.file, day, mapping)
    for line in exchange.format_plan(plan):
        print(line)
    if not args.commit:
        print("dry run: nothing was imported (add --commit to import the good rows)")
        return 1 if plan.bad_rows else 0
    res = commit(db, site, plan)
    print(f"imported at the hub for {res.site_code}: {res.people_added} new people, "
          f"{res.registrations_added} registrations for {res.day}; {res.skipped} already there"
          + (f"; {len(plan.bad_rows)} refused rows left out" if plan.bad_rows else "")
          + "; the site's stations get them on their next sync")
    return 0


__all__ = ["HubImportResult", "add_parser", "commit", "dry_run", "run_cli"]
