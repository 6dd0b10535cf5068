"""What the window receives when a wedge scanner types while Unikey/EVKey is in Telex mode.

The input method watches the letter keys the scanner sends and, like for a
person typing, rewrites the current word: the trigger key never arrives;
instead a Backspace for each character to change, then the new characters.
The rules reproduced here are Telex's core (the subset a QR's ASCII words hit;
no spelling check):

* a tone key ``s f r x j`` after a vowel of the word puts that tone on the
  vowel (a second tone replaces the first);
* ``aa ee oo`` → ``â ê ô``; ``dd`` → ``đ``; ``w`` after ``a o u`` → ``ă ơ ư``.

Characters the scanner sends as Unicode (``ễ``) pass through untouched and
belong to the word. Anything that is not a letter ends the word.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

BACKSPACE = "\b"
TONES = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
DOUBLE = {"a": "â", "e": "ê", "o": "ô", "d": "đ", "A": "Â", "E": "Ê", "O": "Ô", "D": "Đ"}
HOOK = {"a": "ă", "o": "ơ", "u": "ư", "A": "Ă", "O": "Ơ", "U": "Ư"}
VOWELS = set("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")


def _base(ch: str) -> str:
    """The letter without its tone mark (keeps ă â ê ô ơ ư)."""
    d = unicodedata.normalize("NFD", ch)
    kept = "".join(c for c in d if c not in TONES.values())
    return unicodedata.normalize("NFC", kept)


def _has_tone(ch: str) -> bool:
    return any(c in TONES.values() for c in unicodedata.normalize("NFD", ch))


@dataclass
class TelexIme:
    """Feed the scanner's characters one by one; ``events`` is what the window gets."""

    def __post_init__(self) -> None:
        self.word: list[str] = []
        self.events: list[str] = []  # characters, and BACKSPACE
        self.rewrites = 0

    def _rewrite(self, start: int, new_tail: list[str]) -> None:
        """Backspace over word[start:], then type new_tail."""
        self.events.extend(BACKSPACE for _ in range(len(self.word) - start))
        self.events.extend(new_tail)
        self.word[start:] = new_tail
        self.rewrites += 1

    def key(self, ch: str) -> None:
        w = self.word
        vowel_idx = [i for i, c in enumerate(w) if _base(c) in VOWELS]
        low = ch.lower()
        if low in TONES and vowel_idx and ch.isascii():
            toned = [i for i in vowel_idx if _has_tone(w[i])]
            i = toned[0] if toned else vowel_idx[-1]
            new = unicodedata.normalize("NFC", _base(w[i]) + TONES[low])
            self._rewrite(i, [new, *w[i + 1:]])
            return
        if ch in DOUBLE and w and w[-1] == ch:
            self._rewrite(len(w) - 1, [DOUBLE[ch]])
            return
        if low == "w" and vowel_idx and _base(w[vowel_idx[-1]]) in HOOK:
            i = vowel_idx[-1]
            tone = [c for c in unicodedata.normalize("NFD", w[i]) if c in TONES.values()]
            new = unicodedata.normalize("NFC", HOOK[_base(w[i])] + "".join(tone))
            self._rewrite(i, [new, *w[i + 1:]])
            return
        self.events.append(ch)
        if ch.isalpha():
            w.append(ch)
        else:
            self.word = []


def telex_events(text: str) -> tuple[list[str], int]:
    """(what the window receives, how many rewrites) for a scanner typing ``text``."""
    ime = TelexIme()
    for ch in text:
        ime.key(ch)
    return ime.events, ime.rewrites


def visible(events: list[str]) -> str:
    """The text a field shows after ``events`` (Backspace deletes)."""
    out: list[str] = []
    for e in events:
        if e == BACKSPACE:
            if out:
                out.pop()
        else:
            out.append(e)
    return "".join(out)
