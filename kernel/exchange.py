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
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from kernel import refdata
from kernel.errors import FieldIssue, ValidationError
from kernel.person import PersonInput, validate_person
from kernel.rules import vietnam as vn

PERSON_FIELDS = (
    "full_name", "birth", "sex", "id_type", "id_number", "old_id_number", "phone", "bhyt",
    "province_code", "ward_code", "address_line", "priority_group", "occupation",
)  # fmt: skip
# Dose columns are written on export and ignored on import (a pre-registration
# list says who is expected, not what they will be given).
DOSE_FIELDS = (
    "dose_date", "vaccine", "vaccine_name", "lot_number", "dose_number", "dose_kind",
    "site_code", "record_ref",
)  # fmt: skip
OTHER_FIELDS = ("row_no",)
ALL_FIELDS = frozenset(PERSON_FIELDS + DOSE_FIELDS + OTHER_FIELDS)
CODED_FIELDS = ("sex", "id_type", "priority_group", "vaccine", "dose_kind")
MAX_ROWS = 200_000  # a district's list is tens of thousands; more is a wrong file
MAX_FILE_BYTES = 200 * 1024 * 1024
_YEAR = re.compile(r"[0-9]{4}")
_DIGITS = re.compile(r"[0-9]+")

Severity = Literal["error", "warning", "skip"]
RowStatus = Literal["new", "known", "already_expected"]


# ---- the mapping ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    field: str
    header: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    name: str
    placeholder: bool
    sheet: str
    title: str
    header_row: int  # 1-based
    start_row: int  # 1-based, after header_row
    date_format: str
    columns: tuple[ColumnSpec, ...]
    codes: Mapping[str, Mapping[str, str]]  # field -> our code -> text in the file

    def column(self, fld: str) -> ColumnSpec | None:
        for c in self.columns:
            if c.field == fld:
                return c
        return None

    def encode(self, fld: str, code: object) -> str:
        """Our code -> the file's text (the code itself when the list does not name it)."""
        if code is None:
            return ""
        table = self.codes.get(fld) or {}
        return table.get(str(code), str(code))

    def decoder(self, fld: str) -> dict[str, str]:
        """Folded file text (and folded code) -> our code, for reading."""
        out: dict[str, str] = {}
        for code, label in (self.codes.get(fld) or {}).items():
            out[vn.fold(code)] = code
            out[vn.fold(label)] = code
        return out


def _mapping_issue(code: str, **params: Any) -> ValidationError:
    return ValidationError([FieldIssue("mapping", code, params)])


def parse_mapping(raw: Any) -> ColumnMapping:
    """Check and type a mapping document; ``ValidationError`` (field ``mapping``) when wrong."""
    if not isinstance(raw, dict):
        raise _mapping_issue("mapping.invalid")
    try:
        header_row = int(raw.get("header_row", 1))
        start_row = int(raw.get("start_row", header_row + 1))
    except (TypeError, ValueError):
        raise _mapping_issue("mapping.bad_rows") from None
    if not 1 <= header_row < start_row <= 1000:
        raise _mapping_issue("mapping.bad_rows")
    date_format = str(raw.get("date_format", "%d/%m/%Y"))
    try:
        probe = date(1985, 3, 7).strftime(date_format)
        if datetime.strptime(probe, date_format).date() != date(1985, 3, 7):
            raise ValueError
    except ValueError:
        raise _mapping_issue("mapping.bad_date_format") from None
    cols_raw = raw.get("columns")
    if not isinstance(cols_raw, list) or not cols_raw:
        raise _mapping_issue("mapping.no_columns")
    columns: list[ColumnSpec] = []
    seen_fields: set[str] = set()
    seen_headers: set[str] = set()
    for c in cols_raw:
        if not isinstance(c, dict) or not isinstance(c.get("header"), str) or not c["header"].strip():
            raise _mapping_issue("mapping.bad_column")
        fld = c.get("field")
        if fld not in ALL_FIELDS:
            raise _mapping_issue("mapping.unknown_field", field=str(fld)[:40])
        folded = vn.fold(c["header"])
        if fld in seen_fields or folded in seen_headers:
            raise _mapping_issue("mapping.duplicate_column", field=fld)
        seen_fields.add(fld)
        seen_headers.add(folded)
        columns.append(ColumnSpec(fld, c["header"].strip(), bool(c.get("required", False))))
    if "full_name" not in seen_fields or "birth" not in seen_fields:
        raise _mapping_issue("mapping.missing_person_columns")
    codes_raw = raw.get("codes") or {}
    if not isinstance(codes_raw, dict):
        raise _mapping_issue("mapping.bad_codes")
    codes: dict[str, dict[str, str]] = {}
    for fld, table in codes_raw.items():
        if fld not in CODED_FIELDS or not isinstance(table, dict):
            raise _mapping_issue("mapping.bad_codes", field=str(fld)[:40])
        codes[fld] = {str(k): str(v) for k, v in table.items()}
        labels = [vn.fold(v) for v in codes[fld].values()]
        if len(set(labels)) != len(labels):
            raise _mapping_issue("mapping.ambiguous_codes", field=fld)
    return ColumnMapping(
        name=str(raw.get("name", "custom"))[:64],
        placeholder=bool(raw.get("placeholder", False)),
        sheet=str(raw.get("sheet", "Sheet1"))[:31],  # Excel's limit on sheet names
        title=str(raw.get("title", "")),
        header_row=header_row,
        start_row=start_row,
        date_format=date_format,
        columns=tuple(columns),
        codes=codes,
    )


def load_mapping(path: Path | str | None = None) -> ColumnMapping:
    """The mapping in ``path``, or the shipped placeholder (``mapping_default.json``)."""
    try:
        if path is None:
            body = resources.files("kernel.data").joinpath("mapping_default.json").read_text("utf-8")
        else:
            body = Path(path).read_text(encoding="utf-8-sig")
        raw = json.loads(body)
    except OSError:
        raise _mapping_issue("mapping.unreadable") from None
    except ValueError:
        raise _mapping_issue("mapping.not_json") from None
    return parse_mapping(raw)


# ---- export --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: str
    rows: int
    start: str
    end: str
    mapping: str


def _fmt_birth(iso_birth: str, mapping: ColumnMapping) -> str:
    pd = vn.PartialDate.from_iso(iso_birth)
    full = pd.as_date()
    # A year-only birth (allowed on records) is written as the bare year.
    return full.strftime(mapping.date_format) if full is not None else pd.display()


def export_value(fld: str, r: Mapping[Any, Any], mapping: ColumnMapping, n: int) -> object:
    if fld == "row_no":
        return n
    if fld == "birth":
        return _fmt_birth(r["birth"], mapping)
    if fld == "dose_date":
        return date.fromisoformat(r["day"]).strftime(mapping.date_format)
    if fld == "vaccine":
        return mapping.encode("vaccine", r["vaccine_code"])
    if fld == "vaccine_name":
        return refdata.vaccine(r["vaccine_code"]).name_vi if r["vaccine_code"] in refdata.vaccines() else r["vaccine_code"]
    if fld == "dose_kind":
        return mapping.encode("dose_kind", r["kind"])
    if fld == "record_ref":
        return r["dose_id"]
    if fld == "dose_number":
        return int(r["dose_number"])
    if fld in ("sex", "priority_group"):
        return mapping.encode(fld, r[fld])
    if fld == "id_type":
        return mapping.encode("id_type", r["id_type"] if r["id_number"] else "none")
    value = r[fld]
    # Everything else as text: an ID or phone written as a number loses its leading 0.
    return "" if value is None else str(value)


def _header_block(mapping: ColumnMapping) -> list[list[object]]:
    block: list[list[object]] = [[] for _ in range(mapping.header_row - 1)]
    if block and mapping.title:
        block[0] = [mapping.title]
    block.append([c.header for c in mapping.columns])
    # Rows between the headers and the data (notes in some templates) stay empty.
    block += [[] for _ in range(mapping.start_row - mapping.header_row - 1)]
    return block


def write_table(path: Path, mapping: ColumnMapping, rows: Sequence[Sequence[object]]) -> None:
    """Write header block + rows to ``.xlsx`` or ``.csv`` (by suffix)."""
    suffix = path.suffix.lower()
    block = _header_block(mapping)
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerows(block)
            w.writerows(rows)
        return
    if suffix != ".xlsx":
        raise ValidationError([FieldIssue("out", "file.bad_type", {"allowed": [".xlsx", ".csv"]})])
    from openpyxl import Workbook  # imported lazily: ~0.3 s, only exports need it

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(mapping.sheet)
    for line in block:
        ws.append(line)
    for row in rows:
        ws.append(list(row))
    wb.save(str(path))


# ---- reading files -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem of one row (``row`` is the file's row number; 0 = the whole file)."""

    row: int
    field: str
    code: str
    severity: Severity = "error"
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportRow:
    row: int
    person: PersonInput
    status: RowStatus
    # The validated form (what the services store) and the known person's id, if any.
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)
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


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    s = unicodedata.normalize("NFC", str(value)).strip()
    return s or None


def _decode_csv(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # cp1258 keeps tone marks as combining characters: NFC composes them.
        return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace")), "cp1258"


def _csv_rows(data: bytes) -> tuple[Iterator[Sequence[object]], str]:
    content, encoding = _decode_csv(data)
    try:
        dialect: Any = csv.Sniffer().sniff(content[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return iter(csv.reader(io.StringIO(content, newline=""), dialect)), encoding


def _pick_sheet(names: Sequence[str], mapping: ColumnMapping) -> str:
    if mapping.sheet in names:
        return mapping.sheet
    if len(names) == 1:
        return names[0]  # one sheet: its name does not matter
    raise ValidationError([FieldIssue("file", "file.sheet_missing", {"sheet": mapping.sheet})])


def _xlsx_rows(path: Path, mapping: ColumnMapping) -> tuple[Iterator[Sequence[object]], Any]:
    """Rows of the mapped sheet: the streaming reader, or openpyxl when it cannot cope."""
    from kernel.xlsxread import SheetReader, UnsupportedWorkbook

    try:
        reader = SheetReader(path)
    except UnsupportedWorkbook:
        reader = None
    if reader is not None:
        try:
            return reader.rows(_pick_sheet(reader.sheetnames, mapping)), reader
        except ValidationError:
            reader.close()
            raise
    from openpyxl import load_workbook

    try:
        wb = load_workbook(str(path), read_only=True, data_only=True)
    except Exception:  # zipfile/XML errors of a damaged or mislabelled file
        raise ValidationError([FieldIssue("file", "file.unreadable")]) from None
    try:
        ws = wb[_pick_sheet(wb.sheetnames, mapping)]
    except ValidationError:
        wb.close()
        raise
    return ws.iter_rows(values_only=True), wb


@dataclass(frozen=True, slots=True)
class _Table:
    rows: list[tuple[int, list[object]]]  # (row number, cells)
    columns: dict[str, int]  # field -> column index
    encoding: str | None
    digest: str


def read_table(path: Path, mapping: ColumnMapping) -> _Table:
    """Read a file's data rows and locate the mapped columns by header text."""
    try:
        size = path.stat().st_size
    except OSError:
        raise ValidationError([FieldIssue("file", "file.unreadable")]) from None
    if size > MAX_FILE_BYTES:
        raise ValidationError([FieldIssue("file", "file.too_large", {"max_mb": MAX_FILE_BYTES >> 20})])
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    wb: Any = None
    encoding: str | None = None
    if suffix == ".csv":
        it, encoding = _csv_rows(data)
    elif suffix in (".xlsx", ".xlsm"):
        it, wb = _xlsx_rows(path, mapping)
    else:
        raise ValidationError([FieldIssue("file", "file.bad_type", {"allowed": [".xlsx", ".csv"]})])
    try:
        header: Sequence[object] | None = None
        rows: list[tuple[int, list[object]]] = []
        for n, cells in enumerate(it, start=1):
            if n == mapping.header_row:
                header = cells
            elif n >= mapping.start_row:
                if not any(c is not None and str(c).strip() for c in cells):
                    continue  # blank lines (and Excel's formatted-but-empty rows)
                if len(rows) >= MAX_ROWS:
                    raise ValidationError([FieldIssue("file", "file.too_many_rows", {"max": MAX_ROWS})])
                rows.append((n, list(cells)))
    except (SyntaxError, KeyError, IndexError, ValueError, zipfile.BadZipFile, csv.Error):
        # A damaged sheet part (XML ParseError is a SyntaxError) or a broken CSV.
        raise ValidationError([FieldIssue("file", "file.unreadable")]) from None
    finally:
        if wb is not None:
            wb.close()
    if header is None:
        raise ValidationError([FieldIssue("file", "file.no_header", {"row": mapping.header_row})])
    found = {vn.fold(str(h)): i for i, h in enumerate(header) if h is not None and str(h).strip()}
    columns: dict[str, int] = {}
    missing: list[FieldIssue] = []
    for c in mapping.columns:
        idx = found.get(vn.fold(c.header))
        if idx is not None:
            columns[c.field] = idx
        elif c.required:
            # The header text is the mapping's own, not personal data.
            missing.append(FieldIssue(c.field, "file.header_missing", {"header": c.header}))
    if missing:
        raise ValidationError(missing)
    return _Table(rows, columns, encoding, digest)


# ---- rows -> PersonInput -------------------------------------------------------------


def _birth_text(value: object, mapping: ColumnMapping) -> tuple[str | None, str | None]:
    """(ISO date or year, error code)."""
    if isinstance(value, datetime | date):
        d = value.date() if isinstance(value, datetime) else value
        return d.isoformat(), None
    s = _cell_text(value)
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
    s = _cell_text(value)
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
    values: dict[str, Any] = {}
    for fld in ("sex", "id_type", "priority_group"):
        code, known = _coded(fld, cell(fld), decoders)
        if not known:
            # No value in the params: a code list's text is not personal, but the
            # cell could hold anything (a name typed in the wrong column).
            issues.append(FieldIssue(fld, "code.unknown"))
        values[fld] = code
    id_raw = cell("id_number")
    id_number = _cell_text(id_raw)
    id_type = values["id_type"] or _infer_id_type(id_number)
    if isinstance(id_raw, int | float) and id_number and id_type == "cccd" and len(id_number) == 11:
        # Excel stores a typed CCCD as a number and drops its leading 0 (every
        # province code starts with 0); restore it, and say so.
        id_number = "0" + id_number
        issues.append(FieldIssue("id_number", "id.leading_zero_restored", severity="warning"))
    phone_raw = cell("phone")
    phone = _cell_text(phone_raw)
    if isinstance(phone_raw, int | float) and phone and len(phone) == 9:
        phone = "0" + phone
        issues.append(FieldIssue("phone", "phone.leading_zero_restored", severity="warning"))
    province = _cell_text(cell("province_code"))
    if isinstance(cell("province_code"), int | float) and province and len(province) == 1:
        province = "0" + province
    ward = _cell_text(cell("ward_code"))
    if isinstance(cell("ward_code"), int | float) and ward and len(ward) < 5:
        ward = ward.zfill(5)
    if [i for i in issues if i.is_error]:
        return None, issues
    person = PersonInput(
        full_name=_cell_text(cell("full_name")),
        birth=birth,
        sex=values["sex"],
        id_type=id_type,
        id_number=id_number,
        old_id_number=_cell_text(cell("old_id_number")),
        phone=phone,
        province_code=province,
        ward_code=ward,
        address_line=_cell_text(cell("address_line")),
        priority_group=values["priority_group"],
        occupation=_cell_text(cell("occupation")),
        bhyt=_cell_text(cell("bhyt")),
    )
    return person, issues


# ---- dry run and commit --------------------------------------------------------------


def no_id_key(values: Mapping[str, Any]) -> tuple[str, str, str]:
    return (values["name_fold"], values["birth"], values["phone"] or "")


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file read and every row validated, before looking at any database."""

    source: str
    digest: str
    encoding: str | None
    rows_read: int
    checked: tuple[tuple[int, PersonInput, Mapping[str, Any]], ...]  # (row, input, clean values)
    issues: tuple[RowIssue, ...]


def check_file(path: Path | str, mapping: ColumnMapping, *, today: date) -> CheckedFile:
    """Read ``path`` through ``mapping`` and validate every row (no database: the hub uses it too)."""
    p = Path(path)
    issues: list[RowIssue] = []
    table = read_table(p, mapping)
    decoders = {fld: mapping.decoder(fld) for fld in CODED_FIELDS}
    checked: list[tuple[int, PersonInput, Mapping[str, Any]]] = []
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
