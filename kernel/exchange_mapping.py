"""The column mapping of :mod:`kernel.exchange`: which sheet, rows, headers, date format and codes.

A mapping file (JSON) describes a platform's template; the same mapping serves
export and import, so a file written through it reads back the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from kernel.errors import FieldIssue, ValidationError
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


def _mapping_issue(code: str, **params: object) -> ValidationError:
    return ValidationError([FieldIssue("mapping", code, params)])


def parse_mapping(raw: object) -> ColumnMapping:
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
