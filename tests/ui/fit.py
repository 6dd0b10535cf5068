"""Does every text fit its widget, and is every visible text translated? (issue 17)

``problems(top)`` walks the visible widgets of a window and measures each text
with the widget's own font metrics: labels, buttons, check boxes, group box
titles, tab titles, table headers, list and drop-down items, placeholders. A
table that hides columns behind a horizontal scroll bar counts as a problem too.

``visible_texts(top)`` lists the texts a person sees, for the translation check:
a Vietnamese screen shows no text made of English words (:func:`english_words`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QRadioButton,
    QTabBar,
    QTableView,
    QWidget,
)

I18N = Path(__file__).resolve().parents[2] / "ui" / "i18n"
SLACK = 1  # px of rounding


def _shown(w: QWidget) -> bool:
    return w.isVisible() and w.width() > 0 and w.height() > 0


def _widgets(top: QWidget) -> Iterator[QWidget]:
    yield top
    for w in top.findChildren(QWidget):
        if _shown(w) and w.window() is top.window():
            yield w


def _text_width(fm: QFontMetrics, text: str) -> int:
    return max((fm.horizontalAdvance(line) for line in text.split("\n")), default=0)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _name(w: QWidget) -> str:
    return f"{type(w).__name__}({w.objectName() or ''})"


def problems(top: QWidget) -> list[str]:
    """Texts that do not fit their widget, as readable lines (empty: all fit)."""
    out: list[str] = []
    for w in _widgets(top):
        fm = w.fontMetrics()
        if isinstance(w, QLabel):
            text = w.text()
            if not text or w.textFormat() == Qt.TextFormat.RichText or ("<" in text and ">" in text):
                continue
            if w.buddy() is not None:
                text = _plain(text)  # "&Name:" shows as "Name:" with an underline
            room = w.contentsRect().width() - 2 * w.margin() - max(w.indent(), 0)
            if w.wordWrap():
                need = w.heightForWidth(w.width())
                if need > w.height() + SLACK:
                    out.append(f"label cut at the bottom ({need}>{w.height()} px): {text!r}")
            elif _text_width(fm, text) > room + SLACK:
                out.append(f"label too narrow ({_text_width(fm, text)}>{room} px): {text!r}")
        elif isinstance(w, QPushButton | QCheckBox | QRadioButton):
            assert isinstance(w, QAbstractButton)
            text = _plain(w.text())
            if text and w.sizeHint().width() > w.width() + SLACK:
                out.append(f"{type(w).__name__} too narrow ({w.sizeHint().width()}>{w.width()} px): {text!r}")
        elif isinstance(w, QGroupBox):
            if w.title() and _text_width(fm, w.title()) + 24 > w.width():
                out.append(f"group box title too long: {w.title()!r}")
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                text = _plain(w.tabText(i))
                if _text_width(w.fontMetrics(), text) + 8 > w.tabRect(i).width():
                    out.append(f"tab title cut: {text!r}")
        elif isinstance(w, QHeaderView) and w.orientation() == Qt.Orientation.Horizontal:
            out += _header_problems(w)
        elif isinstance(w, QTableView):
            bar = w.horizontalScrollBar()
            if bar.isVisible() and bar.maximum() > 0:
                hidden = [_header(w, c) for c in range(_cols(w.model()))
                          if w.columnViewportPosition(c) + w.columnWidth(c) > w.viewport().width()]
                out.append(f"table hides columns behind a scroll bar: {hidden}")
        elif isinstance(w, QComboBox):
            out += _combo_problems(w)
        elif isinstance(w, QLineEdit):
            hint = w.placeholderText()
            if hint and not w.text():
                room = w.width() - 2 * 8 - (28 if w.isClearButtonEnabled() else 0)
                if _text_width(fm, hint) > room:
                    out.append(f"placeholder cut ({_text_width(fm, hint)}>{room} px): {hint!r}")
        if isinstance(w, QListView) and not isinstance(w.parentWidget(), QComboBox) \
                and not isinstance(w.window(), QFileDialog):  # Qt's own, resizable sidebar
            out += _list_problems(w)
    return out


def _cols(model: object) -> int:
    try:
        return int(model.columnCount())  # type: ignore[attr-defined]
    except TypeError:  # a list model: one column (its columnCount is private in PySide)
        return 1


def _header(view: QTableView, col: int) -> str:
    return str(view.model().headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "")


def _header_problems(h: QHeaderView) -> list[str]:
    out = []
    model = h.model()
    if model is None:
        return out
    fm = h.fontMetrics()
    bold = QFontMetrics(h.font())
    f = h.font()
    f.setBold(True)
    bold = QFontMetrics(f)  # the theme draws headers bold
    for c in range(_cols(model)):
        if h.isSectionHidden(c):
            continue
        text = str(model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "")
        if text and max(_text_width(fm, text), _text_width(bold, text)) + 8 > h.sectionSize(c):
            out.append(f"column header cut ({h.sectionSize(c)} px): {text!r}")
    return out


def _combo_problems(c: QComboBox) -> list[str]:
    out = []
    fm = c.fontMetrics()
    room = c.width() - 40  # padding, border and the arrow
    current = c.currentText() if c.currentIndex() >= 0 else c.placeholderText()
    if current and _text_width(fm, current) > room:
        out.append(f"drop-down shows a cut text ({_text_width(fm, current)}>{room} px): {current!r}")
    popup = max(c.width(), c.view().minimumWidth())
    if isinstance(c.view(), QListView) and c.view().wordWrap():
        return out  # long items wrap onto more lines (ui.widgets.common.wrap_popup)
    for i in range(c.count()):
        text = c.itemText(i)
        if _text_width(fm, text) + 24 > popup:
            out.append(f"drop-down item cut ({_text_width(fm, text) + 24}>{popup} px): {text!r}")
    return out


def _list_problems(v: QListView) -> list[str]:
    out = []
    model = v.model()
    if model is None or v.horizontalScrollBar().isVisible():
        return [] if model is None else [f"list scrolls sideways: {_name(v)}"]
    fm = v.fontMetrics()
    room = v.viewport().width()
    for r in range(min(model.rowCount(QModelIndex()), 50)):
        text = str(model.index(r, 0, QModelIndex()).data(Qt.ItemDataRole.DisplayRole) or "")
        if text and _text_width(fm, text) + 16 > room:
            out.append(f"list item cut: {text!r}")
    return out


# ---- translation ------------------------------------------------------------------------


def visible_texts(top: QWidget) -> list[str]:
    """Every text a person can read on this window (labels, buttons, headers, items...)."""
    out: list[str] = [top.windowTitle()]
    for w in _widgets(top):
        if isinstance(w, QLabel) and w.textFormat() != Qt.TextFormat.RichText:
            out.append(_plain(w.text()) if w.buddy() is not None else w.text())
        elif isinstance(w, QAbstractButton):
            out.append(_plain(w.text()))
            out.append(w.toolTip())
        elif isinstance(w, QGroupBox):
            out.append(w.title())
        elif isinstance(w, QTabBar):
            out += [_plain(w.tabText(i)) for i in range(w.count())]
        elif isinstance(w, QLineEdit):
            out.append(w.placeholderText())
        elif isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())] + [w.placeholderText()]
        elif isinstance(w, QAbstractItemView) and w.model() is not None:
            m = w.model()
            cols = _cols(m)
            out += [str(m.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(cols)]
            for r in range(min(m.rowCount(QModelIndex()), 30)):
                for c in range(cols):
                    out.append(str(m.index(r, c, QModelIndex()).data(Qt.ItemDataRole.DisplayRole) or ""))
    return [t for t in out if t and t.strip()]


_WORD = re.compile(r"[A-Za-z]+")
# Words an English text shows and a Vietnamese one may show too: key caps, brands,
# codes and abbreviations used as such in Vietnam.
ALLOWED = {
    "ctrl", "shift", "alt", "enter", "esc", "tab", "del", "pdf", "excel", "csv", "xlsx", "json",
    "cccd", "cmnd", "qr", "bhyt", "ok", "english", "pfizer", "moderna", "astrazeneca", "vero",
    "cell", "sputnik", "janssen", "abdala", "hayat", "vax", "mrvac", "comirnaty", "spikevax",
    "vaxzevria", "biontech", "sinopharm", "http", "https", "hub", "example", "mmhg", "covid",
    "demo", "pro", "mode", "code", "min", "admin",
}


@cache
def english_words() -> frozenset[str]:
    """Words of the English source texts that no Vietnamese translation uses."""
    english: set[str] = set()
    vietnamese: set[str] = set()
    for ts in (I18N / "tramtiem_vi.ts", I18N / "qt_vi.ts"):
        for msg in ET.parse(ts).iter("message"):
            english |= {w.lower() for w in _WORD.findall(msg.findtext("source") or "") if len(w) >= 3}
            tr = msg.find("translation")
            texts = [tr.text or ""] if tr is not None else []
            texts += [f.text or "" for f in (tr.findall("numerusform") if tr is not None else [])]
            for t in texts:
                vietnamese |= {w.lower() for w in _WORD.findall(t)}
    return frozenset(english - vietnamese - ALLOWED)


def untranslated(texts: list[str]) -> list[str]:
    """Texts that read as English: made of ASCII words, most of them English ones."""
    eng = english_words()
    out = []
    for text in texts:
        words = text.split()
        if any(not w.isascii() for w in words):
            continue  # Vietnamese has diacritics on most words; names too
        letters = [w.lower() for w in _WORD.findall(text) if len(w) >= 3]
        hits = [w for w in letters if w in eng]
        if hits and len(hits) * 2 >= len(letters):
            out.append(text)
    return sorted(set(out))
