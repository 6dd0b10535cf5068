"""Draw the application icon: ``python packaging/make_icon.py`` writes packaging/windows/tramtiem.ico.

Drawn with Qt rather than kept only as a binary so that it can be changed in
review; the ``.ico`` is committed because PyInstaller and Inno Setup read it
on the Windows build machine, which should not need to run this.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter

OUT = Path(__file__).resolve().parent / "windows" / "tramtiem.ico"
ACCENT = "#0b4f9c"  # ui/theme.py ACCENT


def draw(size: int = 256) -> QImage:
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(ACCENT))
    p.setPen(Qt.PenStyle.NoPen)
    m = size * 0.04
    p.drawRoundedRect(QRectF(m, m, size - 2 * m, size - 2 * m), size * 0.18, size * 0.18)
    # A white cross: a health post, legible at 16 px in the task bar.
    p.setBrush(QColor("white"))
    w, lng = size * 0.16, size * 0.56
    c = size / 2
    p.drawRect(QRectF(c - w / 2, c - lng / 2, w, lng))
    p.drawRect(QRectF(c - lng / 2, c - w / 2, lng, w))
    p.end()
    return img


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the application object
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    assert app is not None
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if not draw().save(str(OUT), "ICO"):
        print("Qt could not write ICO (imageformats plugin missing?)", file=sys.stderr)
        return 1
    print(OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
