"""Exchange with other systems through a column mapping, the pure half: mappings, files, row checks.

The database half (which doses to export, who is known or expected, the commit)
is :mod:`station.exchange`; the hub's importer (hub/importer.py) uses this half
with its own database.


The national platform's import template is not public (vietnam.md §3), so nothing
here hard-codes a layout. A **mapping file** (JSON) says which sheet, which header
row, which first data row, which header text per field, which date format and which
code lists (sex, ID type, priority group, vaccine, dose kind) to use. The shipped
``kernel/data/mapping_default.json`` is a placeholder of our own; sites copy and
edit it once the provincial CDC hands out the real "file mẫu".

The same mapping serves both directions, so a file exported here and read back
through the same mapping yields the same person records (tested):

* **export** (:func:`export_records`): the doses given at this site on a day or a
  range of days, one row per dose with the person's fields, to ``.xlsx`` or ``.csv``;
* **import** (:func:`dry_run` then :func:`commit_import`): a pre-registration list
  (``.xlsx`` / ``.csv``) becomes ``PersonInput`` rows. The dry run reports every
  problem by row number, field and code (never the value: it may be personal) and
  writes nothing; the commit adds all good rows through ``people.add_expected`` in
  one transaction, or nothing. Importing the same file again adds nothing.

Text files: CSV is read as UTF-8 (with or without the BOM Excel writes) and, when
that fails, as Windows-1258 (the Vietnamese ANSI code page older Excel versions save
"CSV" in). Files typed in the legacy TCVN3 (ABC) or VNI font encodings cannot be told
apart from cp1258 text by their bytes; they show up as names with characters that are
not letters, and when most names of a file fail that way the report says
``file.legacy_encoding_suspected`` so the clerk converts the file (Unikey's converter)
rather than fixing rows one by one. CSV is written as UTF-8 with a BOM, so Excel
opens it with the diacritics intact.

The parts: :mod:`kernel.exchange_mapping` (the mapping), :mod:`kernel.exchange_files`
(writing and reading tables); this module checks a file's rows and plans an import.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from kernel.errors import FieldIssue, ValidationError
from kernel.exchange_files import (
    ExportResult,
    cell_text,
    export_value,
    read_table,
    write_table,
)
from kernel.exchange_mapping import (
    CODED_FIELDS,
    ColumnMapping,
    ColumnSpec,
    load_mapping,
    parse_mapping,
)
from kernel.person import PersonInput, PersonValues, validate_person
from kernel.rules import vietnam as vn

_YEAR = re.compile(r"[0-9]{4}")
_DIGITS = re.compile(r"[0-9]+")

Severity = Literal["error", "warning", "skip"]
RowStatus = Literal["new", "known", "already_expected"]


# ---- a file's rows checked -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem of one row (``row`` is the file's row number; 0 = the whole file)."""

    row: int
    field: str
    code: str
    severity: Severity = "error"
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportRow:
    row: int
    person: PersonInput
    status: RowStatus
    # The validated form (what the services store) and the known person's id, if any.
    values: PersonValues = dataclasses.field(compare=False, repr=False)
    person_id: str | None = None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The dry run's result: what a commit would add, and every problem found."""

    source: str  # file name only (no directories: they can name people or places)
    day: str
    import_ref: str
    mapping: str
    encoding: str | None  # CSV only
    rows_read: int
    rows: tuple[ImportRow, ...]  # the good rows (errors excluded)
    issues: tuple[RowIssue, ...]

    @property
    def bad_rows(self) -> tuple[int, ...]:
        return tuple(sorted({i.row for i in self.issues if i.severity == "error" and i.row}))

    @property
    def file_errors(self) -> tuple[RowIssue, ...]:
        return tuple(i for i in self.issues if i.row == 0 and i.severity == "error")

    def count(self, status: RowStatus) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def to_add(self) -> int:
        return sum(1 for r in self.rows if r.status != "already_expected")


@dataclass(frozen=True, slots=True)
class ImportResult:
    day: str
    people_added: int
    registrations_added: int
    skipped: int
    import_ref: str


# ---- rows -> PersonInput -------------------------------------------------------------


def _birth_text(value: object, mapping: ColumnMapping) -> tuple[str | None, str | None]:
    """(ISO date or year, error code)."""
    if isinstance(value, datetime | date):
        d = value.date() if isinstance(value, datetime) else value
        return d.isoformat(), None
    s = cell_text(value)
    if s is None:
        return None, None  # validate_person reports date.required
    if _YEAR.fullmatch(s):
        return s, None
    try:
        return datetime.strptime(s, mapping.date_format).date().isoformat(), None
    except ValueError:
        # Right shape, wrong calendar (31/02) is a different mistake from a wrong shape.
        shape = _date_shape(mapping.date_format)
        return None, ("date.impossible" if shape and shape.fullmatch(s) else "date.format")


_DIRECTIVES = {"%d": r"\d{1,2}", "%m": r"\d{1,2}", "%Y": r"\d{4}", "%y": r"\d{2}"}


def _date_shape(fmt: str) -> re.Pattern[str] | None:
    """A regex for the digits layout of a strptime format (None for other directives)."""
    out = ""
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            part = _DIRECTIVES.get(fmt[i : i + 2])
            if part is None:
                return None
            out += part
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return re.compile(out)


def _coded(fld: str, value: object, decoders: Mapping[str, Mapping[str, str]]) -> tuple[str | None, bool]:
    """(our code, known?) for a coded cell; empty cells are (None, True)."""
    s = cell_text(value)
    if s is None:
        return None, True
    table = decoders.get(fld)
    if not table:
        return s, True  # no list in the mapping: the file carries our codes
    code = table.get(vn.fold(s))
    return code, code is not None


def _infer_id_type(number: str | None) -> str:
    if not number:
        return "none"
    compact = "".join(number.split())
    if _DIGITS.fullmatch(compact):
        return "cccd" if len(compact) in (11, 12) else "cmnd" if len(compact) == 9 else "cccd"
    return "passport"


def row_to_person(
    cells: Sequence[object],
    columns: Mapping[str, int],
    mapping: ColumnMapping,
    decoders: Mapping[str, Mapping[str, str]],
) -> tuple[PersonInput | None, list[FieldIssue]]:
    """One row's PersonInput, or None with the conversion issues (codes, dates)."""

    def cell(fld: str) -> object:
        idx = columns.get(fld)
        return cells[idx] if idx is not None and idx < len(cells) else None

    issues: list[FieldIssue] = []
    birth, err = _birth_text(cell("birth"), mapping)
    if err:
        issues.append(FieldIssue("birth", err))
    values: dict[str, str | None] = {}
    for fld in ("sex", "id_type", "priority_group"):
        code, known = _coded(fld, cell(fld), decoders)
        if not known:
            # No value in the params: a code list's text is not personal, but the
            # cell could hold anything (a name typed in the wrong column).
            issues.append(FieldIssue(fld, "code.unknown"))
        values[fld] = code
    id_raw = cell("id_number")
    id_number = cell_text(id_raw)
    id_type = values["id_type"] or _infer_id_type(id_number)
    if isinstance(id_raw, int | float) and id_number and id_type == "cccd" and len(id_number) == 11:
        # Excel stores a typed CCCD as a number and drops its leading 0 (every
        # province code starts with 0); restore it, and say so.
        id_number = "0" + id_number
        issues.append(FieldIssue("id_number", "id.leading_zero_restored", severity="warning"))
    phone_raw = cell("phone")
    phone = cell_text(phone_raw)
    if isinstance(phone_raw, int | float) and phone and len(phone) == 9:
        phone = "0" + phone
        issues.append(FieldIssue("phone", "phone.leading_zero_restored", severity="warning"))
    province = cell_text(cell("province_code"))
    if isinstance(cell("province_code"), int | float) and province and len(province) == 1:
        province = "0" + province
    ward = cell_text(cell("ward_code"))
    if isinstance(cell("ward_code"), int | float) and ward and len(ward) < 5:
        ward = ward.zfill(5)
    if [i for i in issues if i.is_error]:
        return None, issues
    person = PersonInput(
        full_name=cell_text(cell("full_name")),
        birth=birth,
        sex=values["sex"],
        id_type=id_type,
        id_number=id_number,
        old_id_number=cell_text(cell("old_id_number")),
        phone=phone,
        province_code=province,
        ward_code=ward,
        address_line=cell_text(cell("address_line")),
        priority_group=values["priority_group"],
        occupation=cell_text(cell("occupation")),
        bhyt=cell_text(cell("bhyt")),
    )
    return person, issues


# ---- dry run and commit --------------------------------------------------------------


def no_id_key(values: PersonValues) -> tuple[str, str, str]:
    return (values["name_fold"], values["birth"], values["phone"] or "")


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file read and every row validated, before looking at any database."""

    source: str
    digest: str
    encoding: str | None
    rows_read: int
    checked: tuple[tuple[int, PersonInput, PersonValues], ...]  # (row, input, clean values)
    issues: tuple[RowIssue, ...]


def check_file(path: Path | str, mapping: ColumnMapping, *, today: date) -> CheckedFile:
    """Read ``path`` through ``mapping`` and validate every row (no database: the hub uses it too)."""
    p = Path(path)
    issues: list[RowIssue] = []
    table = read_table(p, mapping)
    decoders = {fld: mapping.decoder(fld) for fld in CODED_FIELDS}
    checked: list[tuple[int, PersonInput, PersonValues]] = []
    first_seen: dict[object, int] = {}
    name_char_rows = 0
    for n, cells in table.rows:
        person, conv = row_to_person(cells, table.columns, mapping, decoders)
        # A person field never carries a note ("info"); report one as a warning if it did.
        issues += [
            RowIssue(n, i.field, i.code, "error" if i.is_error else "warning", i.params)
            for i in conv
        ]
        if person is None:
            continue
        try:
            values, warnings = validate_person(person, today=today, walk_in=False)
        except ValidationError as exc:
            issues += [RowIssue(n, i.field, i.code, "error", i.params) for i in exc.issues]
            if "name.invalid_chars" in exc.codes():
                name_char_rows += 1
            continue
        issues += [RowIssue(n, w.field, w.code, "warning", w.params) for w in warnings]
        key: object = values["id_number"] or ("no-id", *no_id_key(values))
        if key in first_seen:
            fld = "id_number" if values["id_number"] else "full_name"
            issues.append(RowIssue(n, fld, "row.duplicate_in_file", "error", {"first_row": first_seen[key]}))
            continue
        first_seen[key] = n
        checked.append((n, person, values))
    if table.rows and name_char_rows * 2 > len(table.rows):
        issues.append(RowIssue(0, "file", "file.legacy_encoding_suspected", "warning"))
    return CheckedFile(p.name, table.digest, table.encoding, len(table.rows), tuple(checked),
                       tuple(issues))


def make_plan(
    cf: CheckedFile,
    day: date,
    mapping: ColumnMapping,
    *,
    known: Mapping[str, str],
    expected: set[str],
    no_id_expected: set[tuple[str, str, str]],
) -> ImportPlan:
    """Sort checked rows into new / known / already expected, given a database's state."""
    issues = list(cf.issues)
    good: list[ImportRow] = []
    for n, person, values in cf.checked:
        pid = known.get(values["id_number"]) if values["id_number"] else None
        on_list = (pid is not None and pid in expected) or (
            values["id_number"] is None and no_id_key(values) in no_id_expected
        )
        status: RowStatus = "already_expected" if on_list else "known" if pid else "new"
        if status == "already_expected":
            issues.append(RowIssue(n, "id_number" if values["id_number"] else "full_name",
                                   "row.already_expected", "skip"))
        good.append(ImportRow(n, person, status, values, pid))
    issues.sort(key=lambda i: (i.row, i.field))
    the_day = day.isoformat()
    return ImportPlan(
        source=cf.source,
        day=the_day,
        # Same file, same day -> same reference (the registrations say which list
        # they came from; the hub keeps it).
        import_ref=f"file:{cf.digest[:16]}:{the_day}",
        mapping=mapping.name,
        encoding=cf.encoding,
        rows_read=cf.rows_read,
        rows=tuple(good),
        issues=tuple(issues),
    )


def issue_lines(plan: ImportPlan) -> list[str]:
    """The row report as plain lines (CLI): row, severity, field, code. No values."""
    out = []
    for i in plan.issues:
        where = "file" if i.row == 0 else f"row {i.row}"
        extra = "".join(f" {k}={v}" for k, v in sorted(i.params.items()))
        out.append(f"{where}\t{i.severity}\t{i.field}\t{i.code}{extra}")
    return out


def format_plan(plan: ImportPlan) -> list[str]:
    """A dry run's report as the CLIs print it (station and hub): issue lines, then a summary."""
    lines = issue_lines(plan)
    lines.append(
        f"{plan.source}: {plan.rows_read} rows read; {plan.count('new')} new people, "
        f"{plan.count('known')} known people, {plan.count('already_expected')} already expected "
        f"on {plan.day}, {len(plan.bad_rows)} rows refused"
        + (f"; encoding {plan.encoding}" if plan.encoding else "")
    )
    return lines


__all__ = [
    "CheckedFile",
    "ColumnMapping",
    "ColumnSpec",
    "ExportResult",
    "ImportPlan",
    "ImportResult",
    "ImportRow",
    "RowIssue",
    "check_file",
    "export_value",
    "format_plan",
    "issue_lines",
    "load_mapping",
    "make_plan",
    "no_id_key",
    "parse_mapping",
    "read_table",
    "row_to_person",
    "write_table",
]
