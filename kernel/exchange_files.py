"""The files of :mod:`kernel.exchange`: writing a table (export) and reading one (import).

``.xlsx`` (the streaming reader of :mod:`kernel.xlsxread`, openpyxl when it cannot
cope) and ``.csv`` (UTF-8 with or without BOM, else Windows-1258), bounded in size
and rows; the mapped columns are found by their header text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from kernel import refdata
from kernel.errors import FieldIssue, ValidationError
from kernel.exchange_mapping import ColumnMapping
from kernel.rules import vietnam as vn

MAX_ROWS = 200_000  # a district's list is tens of thousands; more is a wrong file
MAX_FILE_BYTES = 200 * 1024 * 1024


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


def cell_text(value: object) -> str | None:
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
        dialect: type[csv.Dialect] = csv.Sniffer().sniff(content[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return iter(csv.reader(io.StringIO(content, newline=""), dialect)), encoding


def _pick_sheet(names: Sequence[str], mapping: ColumnMapping) -> str:
    if mapping.sheet in names:
        return mapping.sheet
    if len(names) == 1:
        return names[0]  # one sheet: its name does not matter
    raise ValidationError([FieldIssue("file", "file.sheet_missing", {"sheet": mapping.sheet})])


class _Closable(Protocol):
    """What holds an open workbook: closed once its rows are read."""

    def close(self) -> None: ...


def _xlsx_rows(path: Path, mapping: ColumnMapping) -> tuple[Iterator[Sequence[object]], _Closable]:
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
class Table:
    rows: list[tuple[int, list[object]]]  # (row number, cells)
    columns: dict[str, int]  # field -> column index
    encoding: str | None
    digest: str


def read_table(path: Path, mapping: ColumnMapping) -> Table:
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
    wb: _Closable | None = None
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
    return Table(rows, columns, encoding, digest)
