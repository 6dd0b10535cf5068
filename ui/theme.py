"""Look: large type, high contrast, unmistakable error colours.

Stations are read at arm's length in bright halls, so the base size is big
and every colour pair passes WCAG AA contrast on white. Sizes are in pixels:
a 1366×768 laptop at 100 % must show a whole workspace without scrolling.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication

# Arrow images for drop-downs and spin boxes: a styled QComboBox or QSpinBox loses the
# style's own arrows, and a spin box without arrows does not look like one (issue 17).
ASSETS = (Path(__file__).resolve().parent / "assets").as_posix()

FONT_FAMILIES = ["Segoe UI", "Noto Sans", "DejaVu Sans"]  # all carry Vietnamese glyphs
BASE_PX = 16

ERROR = "#b00020"
ERROR_BG = "#fde7ea"
WARNING = "#7a4a00"
WARNING_BG = "#fff3cd"
OK = "#0b6e2e"
OK_BG = "#e3f4e8"
ACCENT = "#0b4f9c"
FOCUS = "#f0b400"

STYLE = f"""
QWidget {{ color: #111; }}
QMainWindow, QDialog {{ background: #ffffff; }}
QLabel[role="h1"] {{ font-size: 22px; font-weight: 700; color: #0b2545; }}
QLabel[role="h2"] {{ font-size: 18px; font-weight: 700; color: #0b2545; }}
QLabel[role="muted"] {{ color: #444; }}
QLabel[role="fieldError"] {{ color: {ERROR}; font-weight: 600; }}
QLabel[role="fieldWarning"] {{ color: {WARNING}; }}
QLabel[role="banner-error"] {{ background: {ERROR_BG}; color: {ERROR}; border: 2px solid {ERROR};
    padding: 6px 10px; font-weight: 700; }}
QLabel[role="banner-warning"] {{ background: {WARNING_BG}; color: {WARNING}; border: 2px solid #c98a00;
    padding: 6px 10px; font-weight: 700; }}
QLabel[role="banner-ok"] {{ background: {OK_BG}; color: {OK}; border: 2px solid {OK};
    padding: 6px 10px; font-weight: 700; }}
QLabel[role="queue"] {{ font-size: 44px; font-weight: 800; color: {ACCENT}; }}
QLabel[role="outcome"] {{ font-size: 18px; font-weight: 700; padding: 4px 8px; border: 2px solid #333; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit, QDateTimeEdit, QTimeEdit {{
    border: 2px solid #555; border-radius: 3px; padding: 3px 6px; background: #fff; min-height: 26px; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QPlainTextEdit:focus, QTableView:focus,
QTimeEdit:focus, QCheckBox:focus, QPushButton:focus, QListWidget:focus {{
    border: 3px solid {FOCUS}; }}
QLineEdit[invalid="true"], QComboBox[invalid="true"] {{ border: 3px solid {ERROR}; background: {ERROR_BG}; }}
QPushButton {{ border: 2px solid #333; border-radius: 4px; padding: 5px 12px; background: #f2f2f2;
    min-height: 26px; }}
QPushButton:default, QPushButton[role="primary"] {{ background: {ACCENT}; color: #fff; border-color: #06284f; }}
QPushButton[role="primary"] {{ font-weight: 700; }}
QPushButton:disabled {{ color: #777; background: #e6e6e6; border-color: #999; }}
QTableView {{ gridline-color: #bbb; selection-background-color: {ACCENT}; selection-color: #fff;
    alternate-background-color: #f4f6f9; border: 2px solid #555; }}
QHeaderView::section {{ background: #e4e8ee; font-weight: 700; padding: 4px; border: 1px solid #999; }}
QListWidget#nav {{ background: #0b2545; color: #fff; border: none; font-size: 17px; }}
QListWidget#nav::item {{ padding: 10px 8px; }}
QListWidget#nav::item:selected {{ background: {FOCUS}; color: #000; font-weight: 700; }}
QStatusBar {{ background: #0b2545; color: #fff; }}
QStatusBar QLabel {{ color: #fff; padding: 0 8px; }}
QStatusBar QLabel[state="offline"], QStatusBar QLabel[state="error"], QStatusBar QLabel[state="certificate"] {{ background: {ERROR}; color: #fff;
    font-weight: 700; }}
QStatusBar QLabel[state="online"] {{ background: {OK}; color: #fff; font-weight: 700; }}
QStatusBar QLabel[state="syncing"] {{ background: {ACCENT}; color: #fff; font-weight: 700; }}
QStatusBar QLabel[state="warning"] {{ background: #c98a00; color: #000; font-weight: 700; }}
QGroupBox {{ font-weight: 700; border: 2px solid #999; margin-top: 12px; padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; }}
QCheckBox::indicator {{ width: 20px; height: 20px; }}
QProgressBar {{ border: 2px solid #555; text-align: center; min-height: 22px; }}
QProgressBar::chunk {{ background: {ACCENT}; }}
QFrame#undoBar {{ background: {WARNING_BG}; border: 2px solid #c98a00; }}
QFrame#undoBar QLabel {{ color: {WARNING}; font-weight: 700; }}
QComboBox::drop-down, QDateEdit::drop-down {{ subcontrol-origin: padding; subcontrol-position: center right;
    width: 26px; border-left: 1px solid #999; }}
QComboBox::down-arrow, QDateEdit::down-arrow {{ image: url({ASSETS}/arrow-down.png); width: 16px; height: 16px; }}
QComboBox::down-arrow:disabled, QDateEdit::down-arrow:disabled {{ image: url({ASSETS}/arrow-down-disabled.png); }}
QAbstractSpinBox {{ padding-left: 6px; padding-right: 26px; }}
QAbstractSpinBox::up-button {{ subcontrol-origin: border; subcontrol-position: top right; width: 24px;
    border-left: 1px solid #999; border-bottom: 1px solid #ccc; }}
QAbstractSpinBox::down-button {{ subcontrol-origin: border; subcontrol-position: bottom right; width: 24px;
    border-left: 1px solid #999; }}
QAbstractSpinBox::up-arrow {{ image: url({ASSETS}/arrow-up.png); width: 14px; height: 14px; }}
QAbstractSpinBox::down-arrow {{ image: url({ASSETS}/arrow-down.png); width: 14px; height: 14px; }}
QAbstractSpinBox::up-arrow:disabled, QAbstractSpinBox::up-arrow:off {{ image: url({ASSETS}/arrow-up-disabled.png); }}
QAbstractSpinBox::down-arrow:disabled, QAbstractSpinBox::down-arrow:off {{ image: url({ASSETS}/arrow-down-disabled.png); }}
QFrame#helpOverlay {{ background: rgb(11, 37, 69); }}
QFrame#helpOverlay QLabel {{ color: #fff; }}
"""


def apply(app: QApplication) -> None:
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPixelSize(BASE_PX)
    app.setFont(font)
    pal = app.palette()
    pal.setColor(QPalette.ColorRole.Highlight, QPalette().color(QPalette.ColorRole.Link))
    app.setPalette(pal)
    app.setStyle("Fusion")  # the same look on every OS, and on the offscreen platform
    app.setStyleSheet(STYLE)


def set_role(widget: object, role: str) -> None:
    """Set the ``role`` style property and re-polish (styles depend on it)."""
    from PySide6.QtWidgets import QWidget

    assert isinstance(widget, QWidget)
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
