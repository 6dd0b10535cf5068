"""PDF printing for the headless ``tramtiem report --pdf`` command.

``station/exchange_cli.py`` cannot import Qt (the core never does), so ``ui/cli.py``
hands it :func:`render_report_pdf`. Qt is imported only when a PDF is asked for, and
runs on the offscreen platform: the command needs no display.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the reports module loads only when a report is made
    from station.reports import DailyReport


def render_report_pdf(report: DailyReport, path: Path, lang: str) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from ui.printing import print_report_pdf

    # Fonts and the PDF writer need an application object; keep it for the call.
    app = QGuiApplication.instance() or QGuiApplication(["tramtiem"])
    print_report_pdf(report, path, lang)
    del app
