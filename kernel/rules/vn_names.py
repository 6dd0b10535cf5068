"""Vietnamese names: folding for search (no marks, "đ" as "d"), cleaning and checking full names.

Part of :mod:`kernel.rules.vietnam` (import from there); facts from vietnam.md §1.
"""

from __future__ import annotations

import unicodedata

from kernel.errors import FieldIssue

# --------------------------------------------------------------------------
# Text folding and names
# --------------------------------------------------------------------------

# đ/Đ have no canonical decomposition, so NFD cannot strip them; Ð (Eth,
# lowercased to ð) is a look-alike found in mistyped data.
_D_MAP = str.maketrans({"đ": "d", "Đ": "d", "Ð": "d", "ð": "d"})
APOSTROPHES = "'’ʼ‘"
HYPHENS = "-‐‑‒–—"
_FOLD_PUNCT = str.maketrans(dict.fromkeys(APOSTROPHES + HYPHENS + ".,", " "))


class _StripMarks(dict[int, str | None]):
    """``str.translate`` table dropping combining marks (category Mn), filled as seen."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        out = None if unicodedata.category(ch) == "Mn" else ch
        self[code] = out
        return out


_STRIP_MARKS = _StripMarks()


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).lower())
    s = unicodedata.normalize("NFC", s.translate(_STRIP_MARKS).translate(_D_MAP))
    return " ".join(s.translate(_FOLD_PUNCT).split())


# The folded form of each whitespace-separated word seen (names share their syllables: a
# campaign's 6,000 walk-ins hold ~100 distinct ones). Bounded: past that many, a word is
# folded each time it comes.
_FOLDED: dict[str, str] = {}
_MAX_FOLDED = 8192
_MAX_FOLDED_WORD = 64


def fold(text: str) -> str:
    """Search form: lowercase ASCII-ish text without diacritics.

    ``"Nguyễn Thị Đào"`` -> ``"nguyen thi dao"``; old and new tone placement
    (``"Hoà"`` / ``"Hòa"``) fold to the same string.

    Word by word, each word's form remembered (issue 15, phase 10: ~0.6 against ~3 µs a
    name): the same text as folding the whole, since no step reaches across whitespace
    (a whitespace character is a starter that composes with nothing, and is neither
    cased nor case-ignorable for the final sigma; the steps map whitespace to
    whitespace), and the whole's last step splits on whitespace and joins with one
    space (``tests/station/test_fold_words.py`` compares the two over every code point).
    """
    out = []
    for word in text.split():
        got = _FOLDED.get(word)
        if got is None:
            got = _fold(word)
            if len(_FOLDED) < _MAX_FOLDED and len(word) <= _MAX_FOLDED_WORD:
                _FOLDED[word] = got
        if got:
            out.append(got)
    return " ".join(out)


def fold_tokens(text: str) -> list[str]:
    """``fold(text).split()``: the tokens a name index stores."""
    return fold(text).split()


# Characters after which the next letter starts a new capitalised segment:
# "H'Hen Niê", "Y-Moan" (Tây Nguyên names) keep their inner capitals.
_SEGMENT_BREAKS = frozenset(" " + APOSTROPHES + HYPHENS + ".")


def _upper1(ch: str) -> str:
    # Only 1:1 case mappings, so that folding the result equals folding the
    # input ("ß".upper() is "SS", which would change the search form).
    up = ch.upper()
    return up if len(up) == 1 and up.lower() == ch.lower() else ch


def _lower1(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else ch


def clean_name(raw: str) -> str:
    """Display form of a full name: ``"NGUYỄN văn  AN"`` -> ``"Nguyễn Văn An"``.

    NFC, trimmed, inner whitespace collapsed to one space, each syllable
    capitalised; diacritics are kept.
    """
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    out: list[str] = []
    at_start = True
    for ch in text:
        if ch.isalpha():
            out.append(_upper1(ch) if at_start else _lower1(ch))
            at_start = False
        else:
            out.append(ch)
            if ch in _SEGMENT_BREAKS:
                at_start = True
    return unicodedata.normalize("NFC", "".join(out))


NAME_MAX_LENGTH = 100
_NAME_PUNCT = frozenset(APOSTROPHES + HYPHENS + ".")


def _is_latin_letter(ch: str) -> bool:
    # Script test by Unicode name: the stdlib has no script property. The
    # category check keeps out symbols such as U+271D "LATIN CROSS".
    return unicodedata.category(ch).startswith("L") and unicodedata.name(ch, "").startswith(
        "LATIN "
    )


def _name_char_ok(ch: str) -> bool:
    if ch == " " or ch in _NAME_PUNCT or _is_latin_letter(ch):
        return True
    # Non-breaking and other spaces arrive from copy-paste; harmless.
    if unicodedata.category(ch) == "Zs":
        return True
    # Combining diacritics survive NFC when no precomposed letter exists.
    return "\u0300" <= ch <= "\u036f"


def check_full_name(
    raw: str | None, *, field: str = "full_name"
) -> tuple[str | None, list[FieldIssue]]:
    """Validate a full name; return its :func:`clean_name` form when valid."""
    if raw is None or not raw.strip():
        return None, [FieldIssue(field, "name.required")]
    stripped = unicodedata.normalize("NFC", raw).strip()
    cleaned = clean_name(stripped)
    issues: list[FieldIssue] = []
    if len(cleaned) > NAME_MAX_LENGTH:
        issues.append(FieldIssue(field, "name.too_long", {"max": NAME_MAX_LENGTH}))
    # Checked on the uncollapsed text so that tabs/newlines inside the name
    # count as control characters rather than vanishing into spaces.
    bad = sum(1 for ch in stripped if not _name_char_ok(ch))
    if bad:
        # Only the count: echoing the characters could leak the name.
        issues.append(FieldIssue(field, "name.invalid_chars", {"count": bad}))
    elif sum(1 for ch in stripped if _is_latin_letter(ch)) < 2:
        issues.append(FieldIssue(field, "name.too_short", {"min": 2}))
    if issues:
        return None, issues
    return cleaned, []


def given_name_sort_key(full_name: str) -> tuple[str, str, str]:
    """Vietnamese list order: (given, middle names, family), all folded.

    A one-token name sorts as a given name with empty middle and family.
    """
    tokens = fold_tokens(full_name)
    if not tokens:
        return ("", "", "")
    if len(tokens) == 1:
        return (tokens[0], "", "")
    return (tokens[-1], " ".join(tokens[1:-1]), tokens[0])
