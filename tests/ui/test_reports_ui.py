"""Reports workspace (F9), printing (report and slip to PDF, looked at as PNG), import from a file."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from station import reports
from station.store import Station
from tests.station.daydata import build_day
from tests.station.test_exchange import GOOD, write_xlsx
from tests.ui.conftest import Keyboard, login, wait_idle
from ui import printing
from ui.app import StationApp
from ui.settings import UiSettings, save_settings
from ui.workspaces.reports import ReportsWorkspace

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                    reason="pdftoppm (poppler-utils) is not installed")


def pdf_to_png(pdf: Path, png: Path, dpi: int = 80) -> Path:
    """First page of ``pdf`` as ``png`` (pdftoppm), to be looked at and kept in docs/."""
    stem = png.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(stem)], check=True, timeout=60)
    return png


@pytest.fixture(params=["vi", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app_lang(qapp: QApplication, st: Station, staff, lang: str) -> Iterator[StationApp]:
    save_settings(st.data_dir, UiSettings(language=lang))
    ui = StationApp(qapp, st.data_dir, station=st, start_engine=False)
    ui.start()
    yield ui
    ui.shutdown()


def open_reports(qtbot, app: StationApp, kb: Keyboard) -> ReportsWorkspace:
    main = login(qtbot, app, kb, "giamsat")
    kb.key(Qt.Key.Key_F9)
    assert main.current_key() == "reports"
    ws = main.workspaces["reports"]
    assert isinstance(ws, ReportsWorkspace)
    wait_idle(qtbot, app)
    return ws


def test_reports_is_for_supervisors_and_admins(qtbot, app_lang: StationApp, kb: Keyboard) -> None:
    main = login(qtbot, app_lang, kb, "thuky")
    assert "reports" not in main.workspaces
    assert not main.show_workspace("reports")


@needs_pdftoppm
def test_daily_report_preview_pdf_and_excel(qtbot, app_lang: StationApp, kb: Keyboard, st: Station,
                                            staff, clock, tmp_path: Path, lang: str) -> None:
    build_day(st, staff, clock)
    ws = open_reports(qtbot, app_lang, kb)
    assert ws.figures["doses"].text() == "6" and ws.figures["deferred"].text() == "2"
    assert ws.doses_model.rowCount() == len(reports.daily_report(st, st.today()).doses)
    assert sum(int(ws.doses_model.index(r, 4).data()) for r in range(ws.doses_model.rowCount())) == 6
    main = app_lang.main
    assert main is not None
    main.resize(QSize(1366, 768))
    qtbot.wait(50)
    main.grab().save(str(SHOTS / f"{lang}-30-reports.png"))

    pdf, xlsx = tmp_path / "report.pdf", tmp_path / "report.xlsx"
    answers = iter([str(pdf), str(xlsx)])
    ws.ask_save_path = lambda *_a: next(answers)  # type: ignore[method-assign]
    ws.print_btn.click()
    assert pdf.read_bytes().startswith(b"%PDF")
    pdf_to_png(pdf, SHOTS / f"{lang}-32-report-pdf.png")
    ws.xlsx_btn.click()
    wait_idle(qtbot, app_lang)
    wb = openpyxl.load_workbook(xlsx)
    doses = wb[wb.sheetnames[1]]
    with st.read() as conn:
        n = conn.execute(text("SELECT count(*) FROM dose WHERE voided = 0 AND source = 'site'")).scalar_one()
    body = list(doses.iter_rows(min_row=2, values_only=True))
    assert body[-1][6] == n == 6
    assert wb.sheetnames[0] == ("Tổng hợp" if lang == "vi" else "Totals")


def test_import_dry_run_then_import_all(qtbot, app_lang: StationApp, kb: Keyboard, st: Station,
                                        tmp_path: Path, lang: str) -> None:
    rows = [*GOOD,
            [4, "Võ Thị Em", "31/02/1985", "Nữ", "CCCD", "075185004444", "0912000444", "9", ""],
            [5, "Hồ Văn Hải", "07/03/1985", "Nam", "CCCD", "075085007777", "0212345678", "9", ""]]
    path = write_xlsx(tmp_path / "list.xlsx", rows)
    ws = open_reports(qtbot, app_lang, kb)
    ws.tabs.setCurrentIndex(1)
    ws.import_path.setText(str(path))

    def people_count() -> int:
        with st.read() as conn:
            return int(conn.execute(text("SELECT count(*) FROM person")).scalar_one())

    before = people_count()
    ws.check_btn.click()
    wait_idle(qtbot, app_lang)
    assert ws.plan is not None and people_count() == before  # nothing imported yet
    issues = ws.issues_model.rows()
    assert {(i.row, i.field, i.code) for i in issues} == {(7, "birth", "date.impossible"),
                                                         (8, "phone", "phone.invalid")}
    # The table names the row, the column and the problem in words.
    texts = [[ws.issues_model.index(r, c).data() for c in range(4)] for r in range(len(issues))]
    assert texts[0][0] == "7" and "dd/mm/yyyy" not in texts[0][3] and texts[0][3]
    assert ws.import_btn.isEnabled()
    main = app_lang.main
    assert main is not None
    qtbot.wait(50)
    main.grab().save(str(SHOTS / f"{lang}-31-reports-import-check.png"))
    ws.import_btn.click()
    wait_idle(qtbot, app_lang)
    assert people_count() == before + 3
    assert not ws.import_btn.isEnabled() and ws.plan is None
    # The same file again: everyone is already expected, nothing to import.
    ws.check_btn.click()
    wait_idle(qtbot, app_lang)
    assert ws.plan is not None and ws.plan.to_add == 0 and not ws.import_btn.isEnabled()


def test_export_for_the_platform_from_the_screen(qtbot, app_lang: StationApp, kb: Keyboard,
                                                 st: Station, staff, clock, tmp_path: Path) -> None:
    day = build_day(st, staff, clock)
    ws = open_reports(qtbot, app_lang, kb)
    out = tmp_path / "platform.xlsx"
    ws.ask_save_path = lambda *_a: str(out)  # type: ignore[method-assign]
    ws.export_btn.click()
    wait_idle(qtbot, app_lang)
    wb = openpyxl.load_workbook(out)
    ws_ = wb[wb.sheetnames[0]]
    refs = {r[-1] for r in ws_.iter_rows(min_row=4, values_only=True)}
    assert refs == {d.id for d in day.doses}


@needs_pdftoppm
def test_slip_after_observation(qtbot, app_lang: StationApp, kb: Keyboard, st: Station, staff, clock,
                                tmp_path: Path, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    day = build_day(st, staff, clock)
    monkeypatch.setattr(printing, "prints_dir", lambda: tmp_path)
    opened: list[Path] = []
    monkeypatch.setattr(printing, "open_pdf", lambda p: opened.append(p) or True)
    main = login(qtbot, app_lang, kb, "giamsat")
    kb.key(Qt.Key.Key_F5)
    obs = main.workspaces["observation"]
    wait_idle(qtbot, app_lang)
    assert not obs.slip_btn.isEnabled()  # type: ignore[attr-defined]
    # The second-dose person (dose 1 given elsewhere) makes the fullest slip.
    target = day.doses[3]
    from ui.widgets.common import select_where
    assert select_where(obs.view, lambda w: w.dose.id == target.id)  # type: ignore[attr-defined]
    obs.undo_ms = 50  # type: ignore[attr-defined]  # the end is written once its undo time is over
    kb.enter(obs.view)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not obs.pending_ends(), timeout=5000)  # type: ignore[attr-defined]
    wait_idle(qtbot, app_lang)
    assert obs.slip_btn.isEnabled()  # type: ignore[attr-defined]
    kb.key(Qt.Key.Key_P, modifiers=Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, app_lang)
    assert len(opened) == 1 and opened[0].parent == tmp_path
    pdf = opened[0]
    person = reports.slip_data(st, target.person_id).person
    # The file name and the QR carry no personal data.
    assert person.full_name not in pdf.name and (person.id_number or "x") not in pdf.name
    slip = reports.slip_data(st, target.person_id)
    assert slip.qr_payload == f"TT1:{person.id}"
    filled = [(k, n) for k, n, d in slip.rows if d is not None]
    assert filled == [("primary", 1), ("primary", 2)] and len(slip.rows) == 7
    assert slip.rows[0][2] is not None and slip.rows[0][2].elsewhere
    # The screen language picks which language leads on the (always bilingual) slip.
    if lang == "en":
        printing.print_slip_pdf(slip, pdf, lang="en")
    pdf_to_png(pdf, SHOTS / f"{lang}-33-slip-pdf.png")
    html = printing.slip_html(slip)
    assert "GIẤY XÁC NHẬN ĐÃ TIÊM VẮC XIN COVID-19" in html and "CERTIFICATE OF COVID-19" in html


def test_qr_image_holds_the_reference_only() -> None:
    image = printing.qr_image("TT1:0190c0de-0000-7000-8000-000000000001")
    assert not image.isNull() and image.width() == image.height()
    assert reports.qr_payload("abc") == "TT1:abc"


def _pdf_page_mm(pdf: Path) -> tuple[float, float]:
    """Width and height of the first page (MediaBox, points → mm)."""
    import re

    m = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf.read_bytes())
    assert m, "no MediaBox"
    return float(m.group(1)) / 72 * 25.4, float(m.group(2)) / 72 * 25.4


def test_the_slip_on_an_80mm_receipt_roll_a5_and_a4(qapp, st: Station, staff, clock, tmp_path: Path) -> None:
    day = build_day(st, staff, clock)
    slip = reports.slip_data(st, day.doses[3].person_id)
    sizes = {}
    for layout in ("a4", "a5", "receipt80"):
        pdf = printing.print_slip_pdf(slip, tmp_path / f"{layout}.pdf", layout=layout)
        sizes[layout] = _pdf_page_mm(pdf)
    assert abs(sizes["a4"][0] - 210) < 1 and abs(sizes["a4"][1] - 297) < 1
    assert abs(sizes["a5"][0] - 148) < 1 and abs(sizes["a5"][1] - 210) < 1
    w, h = sizes["receipt80"]
    assert abs(w - 80) < 1 and 100 < h < 600  # one roll-length page: no page break mid-slip
    html = printing.receipt_slip_html(slip)
    assert "GIẤY XÁC NHẬN" in html and "CERTIFICATE OF COVID-19" in html
    assert "FK0891" in html and "Mũi cơ bản 3" not in html  # given doses only: no empty rows on a roll
    assert printing.layout_for_page_width(80) == "receipt80"
    assert printing.layout_for_page_width(148) == "a5" and printing.layout_for_page_width(210) == "a4"
    if shutil.which("pdftoppm"):
        pdf_to_png(tmp_path / "receipt80.pdf", tmp_path / "receipt80.png", dpi=100)


def test_the_slip_goes_to_the_printer_chosen_once_and_remembered(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff, clock, tmp_path: Path, monkeypatch
) -> None:
    """No printer exists here: the OS boundary (printer list, dialog, device) is replaced by a
    QPrinter writing PDF; everything else (layout, remembering, the keys) is the real path."""
    from PySide6.QtPrintSupport import QPrinter

    day = build_day(st, staff, clock)
    outputs: list[Path] = []
    asked: list[int] = []

    def pdf_printer(name: str) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        out = tmp_path / f"printed-{len(outputs)}.pdf"
        printer.setOutputFileName(str(out))
        outputs.append(out)
        return printer

    def dialog(_parent: object, current: str = "") -> printing.PrinterChoice:
        asked.append(1)
        return printing.PrinterChoice("XP-80C", 80.0)  # the site's receipt printer and its roll

    monkeypatch.setattr(printing, "available_printers", lambda: ["Microsoft Print to PDF", "XP-80C"])
    monkeypatch.setattr(printing, "ask_printer", dialog)
    monkeypatch.setattr(printing, "make_printer", pdf_printer)
    main = login(qtbot, app, kb, "giamsat")
    kb.key(Qt.Key.Key_F5)
    obs = main.workspaces["observation"]
    wait_idle(qtbot, app)
    from ui.widgets.common import select_where

    assert select_where(obs.view, lambda w: w.dose.id == day.doses[3].id)  # type: ignore[attr-defined]
    obs.undo_ms = 50  # type: ignore[attr-defined]  # the end is written once its undo time is over
    kb.enter(obs.view)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not obs.pending_ends(), timeout=5000)  # type: ignore[attr-defined]
    wait_idle(qtbot, app)
    kb.key(Qt.Key.Key_P, modifiers=Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, app)
    assert asked == [1]  # first slip: the printer is chosen
    assert app.settings.slip_printer == "XP-80C" and app.settings.slip_layout == "receipt80"
    assert "XP-80C" in obs.banner.text()  # type: ignore[attr-defined]
    kb.key(Qt.Key.Key_P, modifiers=Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, app)
    assert asked == [1]  # remembered: straight to the printer
    assert len(outputs) == 2 and all(p.exists() for p in outputs)
    assert abs(_pdf_page_mm(outputs[1])[0] - 80) < 1  # the receipt layout
    from ui.settings import load_settings

    assert load_settings(st.data_dir).slip_printer == "XP-80C"  # kept for the next start
