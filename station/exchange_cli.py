"""``tramtiem export``, ``tramtiem import-registrations`` and ``tramtiem report``.

    tramtiem export --data-dir D --from 01/12/2026 --to 07/12/2026 --out week.xlsx [--mapping M]
    tramtiem import-registrations list.xlsx --data-dir D --date 02/12/2026 [--mapping M] [--commit]
    tramtiem report --data-dir D --day 01/12/2026 [--pdf report.pdf] [--xlsx report.xlsx] [--lang en]

``import-registrations`` is a dry run unless ``--commit`` is given: it prints one line
per problem (row, severity, field, code — never the values) and a summary, and
writes nothing. With ``--commit`` every good row is added in one transaction, or
none. Exit codes follow ``station.cli``: 0 ok, 1 rows were refused (dry run),
2 bad arguments, 3 store or keyring problem, 4 invalid input (a bad file or mapping).

These commands act as IT staff on the laptop (role ``admin``): whoever can run them
already holds the keyring entry that opens the database. Each one is audited.

``register(sub, render_pdf=…)`` adds them to the ``tramtiem`` command; the PDF
renderer is handed in by ``ui/cli.py`` because printing needs Qt, which the core
never imports.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.cliargs import parse_day_arg
from station.cli import EXIT_CHECK, EXIT_OK, EXIT_USAGE
from station.store import Actor, Station, default_data_dir, open_station

# The exchange, report and workbook modules are imported by the commands that use them:
# every `tramtiem` command (`sync --once` above all) would otherwise load them at start-up.
if TYPE_CHECKING:
    from station import exchange
    from station.reports import DailyReport

PdfRenderer = Callable[["DailyReport", Path, str], None]


def cli_actor(st: Station) -> Actor:
    return Actor(user_id=None, username="cli", role="admin", site_code=st.site_code)


def _open(args: argparse.Namespace) -> Station:
    return open_station(Path(args.data_dir) if args.data_dir else default_data_dir())


def _mapping(args: argparse.Namespace) -> exchange.ColumnMapping:
    from station import exchange

    return exchange.load_mapping(args.mapping)


def cmd_export(args: argparse.Namespace) -> int:
    from station import exchange

    mapping = _mapping(args)
    st = _open(args)
    try:
        res = exchange.export_records(st, cli_actor(st), args.start, args.end, args.out, mapping)
    finally:
        st.close()
    note = " (placeholder mapping: check it against the platform's template)" if mapping.placeholder else ""
    print(f"exported {res.rows} doses from {res.start} to {res.end} to {res.path}{note}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from kernel.exchange import format_plan
    from station import exchange

    mapping = _mapping(args)
    st = _open(args)
    try:
        plan = exchange.dry_run(st, args.file, args.date, mapping)
        for line in format_plan(plan):
            print(line)
        if not args.commit:
            print("dry run: nothing was imported (add --commit to import the good rows)")
            return EXIT_CHECK if plan.bad_rows else EXIT_OK
        res = exchange.commit_import(st, cli_actor(st), plan)
    finally:
        st.close()
    print(
        f"imported: {res.people_added} new people, {res.registrations_added} registrations "
        f"for {res.day}; {res.skipped} already there"
        + (f"; {len(plan.bad_rows)} refused rows left out" if plan.bad_rows else "")
    )
    return EXIT_OK


def format_report(rep: DailyReport) -> list[str]:
    from station.reports_xlsx import number_text

    t = rep.totals
    lines = [
        f"site {rep.site_code}  day {rep.day}",
        f"doses {t.doses} (people {t.people_vaccinated}, voided {t.doses_voided}); "
        f"expected {t.expected}, came {t.checked_in}; screened {t.screened}, deferred {t.deferred}; "
        f"adverse events {t.adverse_events} (severe {t.adverse_severe})",
    ]
    for c in rep.doses:
        group = c.priority_group if c.priority_group is not None else "-"
        volume = f" ({number_text(c.volume_ml, 'en')} ml)" if c.volume_ml is not None else ""
        lines.append(
            f"  {c.vaccine_code:9} dose {c.dose_number} {c.kind:10} group {group!s:>3}  {c.count}{volume}"
        )
    for lot in rep.lots:
        used_day, to_date, left = (
            number_text(x, "en") for x in (lot.used_day, lot.used_to_date, lot.remaining)
        )
        lines.append(
            f"  lot {lot.vaccine_code}/{lot.lot_number}: used {used_day} today, "
            f"{to_date} to date of {lot.doses_received}, {left} left"
        )
    return lines


def cmd_report(args: argparse.Namespace, render_pdf: PdfRenderer | None) -> int:
    if args.pdf and render_pdf is None:
        print("error: PDF printing needs the station app (Qt); use --xlsx")
        return EXIT_USAGE
    from station import reports
    from station.reports_xlsx import write_report_xlsx

    st = _open(args)
    try:
        rep = reports.daily_report(st, args.day or st.today())
        with st.unit_of_work(cli_actor(st), min_ops=0) as uow:
            uow.audit("print_report", None, None, detail={"day": rep.day, "pdf": bool(args.pdf),
                                                           "xlsx": bool(args.xlsx)})
    finally:
        st.close()
    for line in format_report(rep):
        print(line)
    if args.xlsx:
        print(f"workbook: {write_report_xlsx(rep, args.xlsx, lang=args.lang)}")
    if args.pdf and render_pdf is not None:
        render_pdf(rep, Path(args.pdf), args.lang)
        print(f"pdf: {args.pdf}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], *, render_pdf: PdfRenderer | None = None) -> None:
    """Add ``export``, ``import-registrations`` and ``report`` to argparse subparsers."""
    p = sub.add_parser("export", help="export the doses of a day or range through a column mapping")
    p.add_argument("--data-dir", help="data directory (default: the OS user-data dir)")
    p.add_argument("--from", dest="start", type=parse_day_arg, required=True, help="first day")
    p.add_argument("--to", dest="end", type=parse_day_arg, required=True, help="last day (inclusive)")
    p.add_argument("--out", type=Path, required=True, help="output file (.xlsx or .csv)")
    p.add_argument("--mapping", help="column mapping JSON (default: the shipped placeholder)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import-registrations",
                       help="check (and with --commit import) a pre-registration list")
    p.add_argument("file", type=Path, help=".xlsx or .csv file")
    p.add_argument("--data-dir", help="data directory (default: the OS user-data dir)")
    p.add_argument("--date", type=parse_day_arg, required=True, help="the day the people are expected")
    p.add_argument("--mapping", help="column mapping JSON (default: the shipped placeholder)")
    p.add_argument("--commit", action="store_true", help="import the good rows (all or nothing)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("report", help="the daily site report (text, and Excel/PDF files)")
    p.add_argument("--data-dir", help="data directory (default: the OS user-data dir)")
    p.add_argument("--day", type=parse_day_arg, help="the day (default: today)")
    p.add_argument("--pdf", help="write the printable report here")
    p.add_argument("--xlsx", help="write the workbook here")
    p.add_argument("--lang", choices=["vi", "en"], default="vi")
    p.set_defaults(func=lambda args: cmd_report(args, render_pdf))


__all__ = ["cli_actor", "format_report", "register"]
