"""Dates as Vietnamese forms write them: day first, a year alone allowed for a birth.

Part of :mod:`kernel.rules.vietnam` (import from there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kernel.errors import FieldIssue

# --------------------------------------------------------------------------
# Partial dates
# --------------------------------------------------------------------------

_ISO_PARTIAL = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar date of which only the year may be known (birth dates).

    ``month`` may be set without ``day``; ``day`` requires ``month``. The
    constructor refuses impossible dates with ``ValueError``.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        # Messages name the rule only, never the values: a birth date is personal.
        if not 1 <= self.year <= 9999:
            raise ValueError("partial date: year out of range")
        if self.month is None:
            if self.day is not None:
                raise ValueError("partial date: day without month")
            return
        if not 1 <= self.month <= 12:
            raise ValueError("partial date: month out of range")
        if self.day is not None:
            try:
                date(self.year, self.month, self.day)
            except ValueError:
                raise ValueError("partial date: impossible day") from None

    def iso(self) -> str:
        """``"1985-03-07"``, ``"1985-03"`` or ``"1985"``."""
        out = f"{self.year:04d}"
        if self.month is not None:
            out += f"-{self.month:02d}"
            if self.day is not None:
                out += f"-{self.day:02d}"
        return out

    @classmethod
    def from_iso(cls, s: str) -> PartialDate:
        """Inverse of :meth:`iso`; ``ValueError`` on anything else."""
        m = _ISO_PARTIAL.fullmatch(s) if isinstance(s, str) else None
        if m is None:
            raise ValueError("partial date: not an ISO year, year-month or date")
        year, month, day = m.groups()
        return cls(
            int(year),
            None if month is None else int(month),
            None if day is None else int(day),
        )

    def display(self) -> str:
        """Vietnamese order: ``"07/03/1985"``, ``"03/1985"`` or ``"1985"``."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"

    def as_date(self) -> date | None:
        """The full date, or ``None`` when the day or month is unknown."""
        if self.month is None or self.day is None:
            return None
        return date(self.year, self.month, self.day)


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_DMY = re.compile(r"([0-9]{1,2})\s*([/.\-])\s*([0-9]{1,2})\s*\2\s*([0-9]{4})")
_YMD = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
DMY8_RE = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})")
YEAR_RE = re.compile(r"[0-9]{4}")


def _split_date(text: str, allow_year_only: bool) -> tuple[int, int | None, int | None] | None:
    if m := _DMY.fullmatch(text):
        return int(m[4]), int(m[3]), int(m[1])
    if m := _YMD.fullmatch(text):
        return int(m[1]), int(m[2]), int(m[3])
    if m := DMY8_RE.fullmatch(text):
        return int(m[3]), int(m[2]), int(m[1])
    if allow_year_only and YEAR_RE.fullmatch(text):
        return int(text), None, None
    return None


def parse_date(
    raw: str | None,
    *,
    field: str,
    today: date,
    allow_year_only: bool = False,
    min_year: int = 1900,
    allow_future: bool = False,
    required: bool = True,
) -> tuple[PartialDate | None, list[FieldIssue]]:
    """Parse a Vietnamese-order date (day first) or ISO date.

    Two-digit years are refused: "85" cannot tell 1885 from 1985 reliably.
    """
    if raw is None or not raw.strip():
        return None, ([FieldIssue(field, "date.required")] if required else [])
    text = raw.strip()
    parts = _split_date(text, allow_year_only) if len(text) <= 40 else None
    if parts is None:
        return None, [FieldIssue(field, "date.format")]
    year, month, day = parts
    if year < min_year:
        return None, [FieldIssue(field, "date.too_old", {"min_year": min_year})]
    try:
        value = PartialDate(year, month, day)
    except ValueError:
        return None, [FieldIssue(field, "date.impossible")]
    full = value.as_date()
    is_future = full > today if full is not None else value.year > today.year
    if is_future and not allow_future:
        return None, [FieldIssue(field, "date.future")]
    return value, []
