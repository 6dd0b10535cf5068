"""``fold`` word by word, each word's form remembered (issue 15, phase 10): the same text as
folding the whole string at once, for every code point around and between words."""

from __future__ import annotations

import random
import sys

import pytest

from kernel.rules import vn_names
from kernel.rules.vn_names import _fold, fold

# Where a word-by-word fold could part from the whole's: a character between words, a
# combining mark after a space, a final sigma before one, Hangul jamo across one.
_AROUND = ["A{c}Σ {c}b", "x {c}\u0301y", "ΑΣ{c}Β", "H'{c}en Niê", "\u1100{c}\u1161"]
_SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()] + ["\u180e", "\u200b", "\ufeff"]


@pytest.mark.slow  # ~8 s: the fast suite has the characters that matter below
def test_every_code_point_folds_as_the_whole_string_does() -> None:
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        x = f"A{c}Σ {c}b"
        assert fold(x) == _fold(x), hex(cp)


def test_whitespace_marks_and_sigma_between_words() -> None:
    marks = [chr(c) for c in range(0x300, 0x370)] + ["\u1dc0", "\u20d0", "\ufe20"]
    for c in [*_SPACES, *marks, "Σ", "σ", "ς", "đ", "Đ", "Ð", "'", "’", "-", "—", ".", ","]:
        for t in _AROUND:
            x = t.format(c=c)
            assert fold(x) == _fold(x), (hex(ord(c)), t)


def test_random_names_fold_as_the_whole_string_does() -> None:
    pool = [chr(c) for c in range(0x20, 0x250)] + _SPACES + list("\u0301\u0300\u0323\u0303\u0309ΣσςđĐÐð'’ʼ‘-‐–—.,ễằỘ")
    rnd = random.Random(15)
    for _ in range(50_000):
        x = "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 14)))
        assert fold(x) == _fold(x), [hex(ord(ch)) for ch in x]
    assert fold("  Nguyễn   Thị  Đào ") == "nguyen thi dao"
    assert fold("Hoà") == fold("Hòa") == "hoa"
    assert fold(" \u0301 ") == ""


def test_the_remembered_words_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vn_names, "_FOLDED", {})
    monkeypatch.setattr(vn_names, "_MAX_FOLDED", 5)
    words = [f"Tên{i}" for i in range(20)]
    assert fold(" ".join(words)) == " ".join(f"ten{i}" for i in range(20))
    assert len(vn_names._FOLDED) == 5
    long = "Ằ" * (vn_names._MAX_FOLDED_WORD + 1)
    monkeypatch.setattr(vn_names, "_FOLDED", {})
    assert fold(long) == "a" * len(long)
    assert vn_names._FOLDED == {}  # a word longer than that is folded, not kept
