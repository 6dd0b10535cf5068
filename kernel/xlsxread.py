"""A small streaming reader for the cell values of one .xlsx sheet.

Why not openpyxl for reading: even in read-only mode it builds a Python object per
cell and resolves styles for each, which makes a 50,000-row list (a million cells)
take many seconds on a site laptop, most of the import budget. A pre-registration
list needs only values, so this reader streams the sheet XML with the C-accelerated
``xml.etree`` parser and resolves shared strings, numbers, booleans and dates
itself. openpyxl stays the writer, and the fallback for a workbook this reader does
not understand (``UnsupportedWorkbook``).

Only what lists contain is handled: shared strings, inline strings, formula results
(``t="str"``), numbers (integral ones come back as ``int``), booleans, ISO dates
(``t="d"``) and numbers in a date format (both the 1900 and the 1904 date systems).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from xml.etree.ElementTree import Element, iterparse

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that are dates or times (ECMA-376 §18.8.30).
_BUILTIN_DATE_FORMATS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_REF_LETTERS = re.compile(r"[A-Z]+")


class UnsupportedWorkbook(Exception):
    """The file is a zip but not a workbook this reader can walk (use openpyxl)."""


def _is_date_format(code: str) -> bool:
    bare = _QUOTED.sub("", code).lower()
    return any(ch in bare for ch in "dmy") and "general" not in bare


def _column_index(ref: str) -> int:
    m = _REF_LETTERS.match(ref)
    if m is None:
        raise UnsupportedWorkbook("cell reference")
    n = 0
    for ch in m.group(0):
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _text(el: Element) -> str:
    # Rich text keeps its runs in <r><t>; phonetic guides (<rPh>) are not content.
    parts = [t.text or "" for t in el.iter(f"{NS}t")]
    for ph in el.iter(f"{NS}rPh"):
        for t in ph.iter(f"{NS}t"):
            if t.text:
                parts.remove(t.text)
    return "".join(parts)


class SheetReader:
    """Open a workbook, pick a sheet by name, iterate its rows as lists of values."""

    def __init__(self, path: Path | str) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise UnsupportedWorkbook("not a zip") from exc
        try:
            self.sheets = self._sheet_paths()
            self._strings = self._shared_strings()
            self._date_styles, self._date1904 = self._styles()
        except (KeyError, SyntaxError) as exc:
            self._zip.close()
            raise UnsupportedWorkbook("workbook parts") from exc

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SheetReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    def _sheet_paths(self) -> dict[str, str]:
        rels: dict[str, str] = {}
        with self._zip.open("xl/_rels/workbook.xml.rels") as fh:
            for _ev, el in iterparse(fh):
                if el.tag == f"{PKG_REL_NS}Relationship":
                    target = el.get("Target", "")
                    # Targets are relative to xl/ unless absolute ("/xl/worksheets/…").
                    full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                        posixpath.join("xl", target)
                    )
                    rels[el.get("Id", "")] = full
        out: dict[str, str] = {}
        self._workbook_pr: dict[str, str] = {}
        with self._zip.open("xl/workbook.xml") as fh:
            for _ev, el in iterparse(fh):
                if el.tag == f"{NS}sheet":
                    rid = el.get(f"{REL_NS}id", "")
                    if rid in rels:
                        out[el.get("name", "")] = rels[rid]
                elif el.tag == f"{NS}workbookPr":
                    self._workbook_pr = dict(el.attrib)
        return out

    def _shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self._zip.namelist():
            return []
        out: list[str] = []
        with self._zip.open("xl/sharedStrings.xml") as fh:
            for _ev, el in iterparse(fh):
                if el.tag == f"{NS}si":
                    out.append(_text(el))
                    el.clear()
        return out

    def _styles(self) -> tuple[frozenset[int], bool]:
        date1904 = self._workbook_pr.get("date1904", "0").lower() in ("1", "true")
        if "xl/styles.xml" not in self._zip.namelist():
            return frozenset(), date1904
        custom: dict[int, str] = {}
        xfs: list[int] = []
        in_cell_xfs = False
        with self._zip.open("xl/styles.xml") as fh:
            for ev, el in iterparse(fh, events=("start", "end")):
                if el.tag == f"{NS}cellXfs":
                    in_cell_xfs = ev == "start"
                elif ev == "end" and el.tag == f"{NS}numFmt":
                    custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
                elif ev == "end" and el.tag == f"{NS}xf" and in_cell_xfs:
                    xfs.append(int(el.get("numFmtId", "0")))
        dates = {
            i
            for i, fmt in enumerate(xfs)
            if fmt in _BUILTIN_DATE_FORMATS or (fmt in custom and _is_date_format(custom[fmt]))
        }
        return frozenset(dates), date1904

    def _number(self, raw: str, style: int) -> object:
        try:
            value = float(raw)
        except ValueError:
            return raw
        if style in self._date_styles:
            base = datetime(1904, 1, 1) if self._date1904 else datetime(1899, 12, 30)
            return base + timedelta(days=value)
        return int(value) if value.is_integer() else value

    def rows(self, sheet: str) -> Iterator[list[object]]:
        """Every row from row 1, as a list of values (None for empty cells); gaps kept."""
        part = self.sheets[sheet]
        current = 0
        cells: list[object] = []
        row_no = 0
        with self._zip.open(part) as fh:
            for _ev, el in iterparse(fh):
                tag = el.tag
                if tag == f"{NS}c":
                    ref = el.get("r")
                    col = _column_index(ref) if ref else len(cells)
                    typ = el.get("t", "n")
                    v = el.find(f"{NS}v")
                    value: object = None
                    if typ == "s":
                        if v is not None and v.text is not None:
                            value = self._strings[int(v.text)]
                    elif typ == "inlineStr":
                        is_ = el.find(f"{NS}is")
                        value = _text(is_) if is_ is not None else None
                    elif typ in ("str", "e"):
                        value = v.text if v is not None else None
                    elif typ == "b":
                        value = (v.text == "1") if v is not None else None
                    elif typ == "d":
                        value = datetime.fromisoformat(v.text) if v is not None and v.text else None
                    elif v is not None and v.text is not None:
                        value = self._number(v.text, int(el.get("s", "0")))
                    if col >= len(cells):
                        cells.extend([None] * (col - len(cells) + 1))
                    cells[col] = value
                    el.clear()
                elif tag == f"{NS}row":
                    r = el.get("r")
                    row_no = int(r) if r else current + 1
                    # Rows absent from the XML (nothing in them) still count.
                    while current + 1 < row_no:
                        current += 1
                        yield []
                    current = row_no
                    yield cells
                    cells = []
                    el.clear()
