"""Reports (supervisor): the daily site report, exports, and pre-registration imports.

Two tabs:

* **Daily report**: pick a day, see the numbers (doses by vaccine, dose and group;
  lots used against received), print them to PDF or export them to Excel.
* **Exchange**: export the doses of a day range for the national platform through a
  column-mapping file, and import a pre-registration list from a file (a USB stick):
  a dry run first, whose row-by-row report is shown in a table, then "Import all",
  which adds every good row in one transaction. Nothing is imported before that.

Queries, the dry run and file writing run off the GUI thread (``ui/tasks.py``);
PDF layout runs on the GUI thread (Qt's text layout wants it, and takes a blink).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QObject, Qt
from PySide6.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from station import exchange, reports
from station.reports import DailyReport
from station.reports_xlsx import write_report_xlsx
from ui import labels, messages, printing, theme
from ui.context import AppContext, Session
from ui.models.table import Column, RowsModel
from ui.tasks import Progress
from ui.widgets.common import Banner, make_table
from ui.workspaces.base import Workspace

RIGHT = Qt.AlignmentFlag.AlignRight


def to_date(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


def to_qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


class ReportDosesModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                # The volume only where it is not the product's dose (a half-dose booster).
                Column(self.tr("Vaccine"), lambda c: labels.vaccine_name(c.vaccine_code)
                       + (f" ({labels.volume(c.volume_ml)})" if c.volume_ml is not None else "")),
                Column(self.tr("Dose"), lambda c: str(c.dose_number), align=RIGHT),
                Column(self.tr("Kind"), lambda c: labels.tr(labels.KIND, c.kind)),
                Column(self.tr("Priority group"),
                       lambda c: str(c.priority_group) if c.priority_group is not None else "—",
                       align=RIGHT),
                Column(self.tr("Doses"), lambda c: str(c.count), align=RIGHT, bold=True),
            ],
            parent,
        )


class ReportLotsModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("Vaccine"), lambda lot: labels.vaccine_name(lot.vaccine_code)),
                Column(self.tr("Lot"), lambda lot: lot.lot_number, bold=True),
                Column(self.tr("Received"), lambda lot: str(lot.doses_received), align=RIGHT),
                Column(self.tr("Used that day"), lambda lot: labels.number(lot.used_day), align=RIGHT),
                Column(self.tr("Used to date"), lambda lot: labels.number(lot.used_to_date), align=RIGHT),
                Column(self.tr("Remaining"), lambda lot: labels.number(lot.remaining), align=RIGHT,
                       color=lambda lot: "#b00020" if lot.remaining < 0 else None),
            ],
            parent,
        )


class ImportIssuesModel(RowsModel):
    """The dry run's report: one line per problem, by row number. Never the cell's value."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("Row"), lambda i: str(i.row) if i.row else self.tr("file"),
                       sort=lambda i: i.row, align=RIGHT, bold=True),
                Column(self.tr("Result"), self._severity, color=self._color),
                Column(self.tr("Column"), self._field),
                Column(self.tr("Problem"), lambda i: messages.text_for(i.code, dict(i.params))),
            ],
            parent,
        )

    def _severity(self, i: exchange.RowIssue) -> str:
        if i.severity == "error":
            return self.tr("left out")
        if i.severity == "skip":
            return self.tr("already on the list")
        return self.tr("check")

    def _color(self, i: exchange.RowIssue) -> str | None:
        return {"error": "#b00020", "skip": "#555555", "warning": "#8a5a00"}.get(i.severity)

    def _field(self, i: exchange.RowIssue) -> str:
        names = {
            "full_name": self.tr("Full name"), "birth": self.tr("Date of birth"),
            "sex": self.tr("Sex"), "id_type": self.tr("ID type"), "id_number": self.tr("ID number"),
            "old_id_number": self.tr("Old ID number"), "phone": self.tr("Phone"),
            "priority_group": self.tr("Priority group"), "province_code": self.tr("Province"),
            "ward_code": self.tr("Ward"), "address_line": self.tr("Address"),
            "occupation": self.tr("Occupation"), "bhyt": self.tr("Health insurance"),
            "file": self.tr("File"),
        }
        return names.get(i.field, i.field)


class ReportsWorkspace(Workspace):
    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(ctx, session, parent)
        self.report: DailyReport | None = None
        self.plan: exchange.ImportPlan | None = None
        title = QLabel(self.tr("Reports"), self)
        theme.set_role(title, "h1")
        self.banner = Banner(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._report_tab(), self.tr("Daily report"))
        self.tabs.addTab(self._exchange_tab(), self.tr("Exchange"))
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.banner)
        lay.addWidget(self.tabs, 1)

    # ---- building ---------------------------------------------------------------------

    def _date_edit(self, d: date) -> QDateEdit:
        edit = QDateEdit(to_qdate(d), self)
        edit.setDisplayFormat("dd/MM/yyyy")
        edit.setCalendarPopup(True)
        return edit

    def _report_tab(self) -> QWidget:
        tab = QWidget(self)
        self.day = self._date_edit(self.ctx.station.today())
        self.day.dateChanged.connect(lambda _d: self.refresh())
        self.print_btn = QPushButton(self.tr("Print PDF…"), tab)
        self.print_btn.setProperty("role", "primary")
        self.print_btn.clicked.connect(self.print_pdf)
        self.xlsx_btn = QPushButton(self.tr("Export Excel…"), tab)
        self.xlsx_btn.clicked.connect(self.export_xlsx)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Day:"), tab))
        top.addWidget(self.day)
        top.addStretch(1)
        top.addWidget(self.print_btn)
        top.addWidget(self.xlsx_btn)
        # The headline figures, each a label so a glance reads them.
        self.figures: dict[str, QLabel] = {}
        grid = QGridLayout()
        names = [("doses", self.tr("Doses given")), ("people", self.tr("People vaccinated")),
                 ("expected", self.tr("Registered")), ("came", self.tr("Came")),
                 ("screened", self.tr("Screened")), ("deferred", self.tr("Deferred")),
                 ("adverse", self.tr("Adverse events")), ("voided", self.tr("Voided doses"))]
        for i, (key, text) in enumerate(names):
            value = QLabel("—", tab)
            theme.set_role(value, "h2")
            self.figures[key] = value
            grid.addWidget(QLabel(text, tab), (i // 4) * 2, i % 4)
            grid.addWidget(value, (i // 4) * 2 + 1, i % 4)
        self.doses_model = ReportDosesModel(self)
        self.doses_view = make_table(self.doses_model, tab)
        self.lots_model = ReportLotsModel(self)
        self.lots_view = make_table(self.lots_model, tab)
        lay = QVBoxLayout(tab)
        lay.addLayout(top)
        lay.addLayout(grid)
        lay.addWidget(QLabel(self.tr("Doses by vaccine, dose, kind and priority group"), tab))
        lay.addWidget(self.doses_view, 1)
        lay.addWidget(QLabel(self.tr("Lots: doses used against doses received"), tab))
        lay.addWidget(self.lots_view, 1)  # as tall as the doses: every lot in view at 1366×768
        return tab

    def _exchange_tab(self) -> QWidget:
        tab = QWidget(self)
        today = self.ctx.station.today()
        # Export for the national platform.
        exp = QGroupBox(self.tr("Export for the national platform"), tab)
        self.mapping_path = QLineEdit(exp)
        self.mapping_path.setPlaceholderText(self.tr("built-in mapping (placeholder template)"))
        pick_mapping = QPushButton(self.tr("Mapping file…"), exp)
        pick_mapping.clicked.connect(self._choose_mapping)
        self.exp_from = self._date_edit(today)
        self.exp_to = self._date_edit(today)
        self.export_btn = QPushButton(self.tr("Export…"), exp)
        self.export_btn.clicked.connect(self.export_records)
        mrow = QHBoxLayout()
        mrow.addWidget(self.mapping_path, 1)
        mrow.addWidget(pick_mapping)
        drow = QHBoxLayout()
        drow.addWidget(QLabel(self.tr("From"), exp))
        drow.addWidget(self.exp_from)
        drow.addWidget(QLabel(self.tr("to"), exp))
        drow.addWidget(self.exp_to)
        drow.addStretch(1)
        drow.addWidget(self.export_btn)
        el = QVBoxLayout(exp)
        el.addLayout(mrow)
        el.addLayout(drow)
        note = QLabel(self.tr("The file holds personal data: keep it on the site's encrypted stick "
                              "and delete it once uploaded."), exp)
        note.setWordWrap(True)
        theme.set_role(note, "muted")
        el.addWidget(note)

        # Import of pre-registration lists.
        imp = QGroupBox(self.tr("Import pre-registrations"), tab)
        self.import_path = QLineEdit(imp)
        self.import_path.setPlaceholderText(self.tr("an .xlsx or .csv list"))
        pick_file = QPushButton(self.tr("Choose file…"), imp)
        pick_file.clicked.connect(self._choose_import_file)
        self.import_day = self._date_edit(today + timedelta(days=1))
        self.check_btn = QPushButton(self.tr("Check the file"), imp)
        self.check_btn.clicked.connect(self.check_file)
        self.import_btn = QPushButton(self.tr("Import all"), imp)
        self.import_btn.setProperty("role", "primary")
        self.import_btn.setEnabled(False)
        self.import_btn.clicked.connect(self.import_all)
        form = QFormLayout()
        frow = QHBoxLayout()
        frow.addWidget(self.import_path, 1)
        frow.addWidget(pick_file)
        form.addRow(self.tr("File"), frow)
        drow2 = QHBoxLayout()
        drow2.addWidget(self.import_day)
        drow2.addStretch(1)
        form.addRow(self.tr("Expected on"), drow2)
        brow = QHBoxLayout()
        brow.addWidget(self.check_btn)
        brow.addWidget(self.import_btn)
        brow.addStretch(1)
        self.plan_summary = QLabel(imp)
        self.plan_summary.setWordWrap(True)
        self.issues_model = ImportIssuesModel(self)
        self.issues_view = make_table(self.issues_model, imp, sortable=True)
        self.issues_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # file order
        il = QVBoxLayout(imp)
        il.addLayout(form)
        il.addLayout(brow)
        il.addWidget(self.plan_summary)
        il.addWidget(self.issues_view, 1)

        lay = QVBoxLayout(tab)
        lay.addWidget(exp)
        lay.addWidget(imp, 1)
        return tab

    # ---- workspace --------------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Reports")

    def shortcuts(self) -> list[tuple[str, str]]:
        return [(self.tr("Ctrl+Tab"), self.tr("Next tab (daily report, exchange)"))]

    def activate(self) -> None:
        self.refresh()
        self.day.setFocus()

    def refresh(self) -> None:
        st, day = self.ctx.station, to_date(self.day.date())
        self.ctx.tasks.read(lambda: reports.daily_report(st, day), owner=self,
                            on_ok=self._loaded, on_err=self.banner.show_error, label="report")

    def _loaded(self, rep: DailyReport) -> None:
        self.report = rep
        t = rep.totals
        values = {"doses": t.doses, "people": t.people_vaccinated, "expected": t.expected,
                  "came": t.checked_in, "screened": t.screened, "deferred": t.deferred,
                  "adverse": t.adverse_events, "voided": t.doses_voided}
        for key, value in values.items():
            self.figures[key].setText(str(value))
        self.doses_model.set_rows(list(rep.doses))
        self.lots_model.set_rows(list(rep.lots))

    # ---- file choosers (methods, so tests can answer them without a modal dialog) ------

    def ask_save_path(self, caption: str, suggested: str, filter_: str) -> str | None:
        path, _f = QFileDialog.getSaveFileName(self, caption, suggested, filter_)
        return path or None

    def ask_open_path(self, caption: str, filter_: str) -> str | None:
        path, _f = QFileDialog.getOpenFileName(self, caption, "", filter_)
        return path or None

    def _choose_mapping(self) -> None:
        path = self.ask_open_path(self.tr("Column mapping"), self.tr("Mapping (*.json)"))
        if path:
            self.mapping_path.setText(path)

    def _choose_import_file(self) -> None:
        path = self.ask_open_path(self.tr("Pre-registration list"),
                                  self.tr("Lists (*.xlsx *.csv)"))
        if path:
            self.import_path.setText(path)
            self._clear_plan()

    def _suggest(self, stem: str, suffix: str) -> str:
        return str(Path.home() / f"{stem}-{self.ctx.station.site_code}{suffix}")

    # ---- daily report: PDF and Excel -----------------------------------------------------

    def _lang(self) -> str:
        return "vi" if labels.is_vietnamese() else "en"

    def print_pdf(self) -> None:
        rep = self.report
        if rep is None:
            return
        path = self.ask_save_path(self.tr("Save the report as PDF"),
                                  self._suggest(f"bao-cao-{rep.day}", ".pdf"), "PDF (*.pdf)")
        if not path:
            return
        try:
            printing.print_report_pdf(rep, path, self._lang())
        except OSError:
            self.banner.show_message(self.tr("The file could not be written."), "error")
            return
        self.banner.show_message(self.tr("Report saved: {path}").format(path=path), "ok")
        self.sig_status.emit(self.tr("Report saved"))

    def export_xlsx(self) -> None:
        rep = self.report
        if rep is None:
            return
        path = self.ask_save_path(self.tr("Export the report to Excel"),
                                  self._suggest(f"bao-cao-{rep.day}", ".xlsx"), "Excel (*.xlsx)")
        if not path:
            return
        lang = self._lang()
        self.ctx.tasks.read(lambda: write_report_xlsx(rep, path, lang=lang), owner=self,
                            on_ok=lambda p: self.banner.show_message(
                                self.tr("Workbook saved: {path}").format(path=p), "ok"),
                            on_err=self._file_error, label="report-xlsx")

    def _file_error(self, exc: BaseException) -> None:
        if isinstance(exc, OSError):
            self.banner.show_message(self.tr("The file could not be written."), "error")
        else:
            self.banner.show_error(exc)

    # ---- export for the platform -----------------------------------------------------------

    def _mapping(self) -> exchange.ColumnMapping:
        raw = self.mapping_path.text().strip()
        return exchange.load_mapping(raw or None)

    def export_records(self) -> None:
        start, end = to_date(self.exp_from.date()), to_date(self.exp_to.date())
        suffix_filter = self.tr("Excel (*.xlsx);;CSV (*.csv)")
        path = self.ask_save_path(self.tr("Export for the national platform"),
                                  self._suggest(f"tiem-{start}-{end}", ".xlsx"), suffix_filter)
        if not path:
            return
        st, actor, raw = self.ctx.station, self.session.actor, self.mapping_path.text().strip()

        def work() -> exchange.ExportResult:
            return exchange.export_records(st, actor, start, end, path,
                                           exchange.load_mapping(raw or None))

        self.ctx.tasks.write(work, owner=self, on_ok=self._exported, on_err=self._file_error,
                             label="export")

    def _exported(self, res: exchange.ExportResult) -> None:
        self.banner.show_message(
            self.tr("Exported {n} doses to {path}.").format(n=res.rows, path=res.path), "ok")

    # ---- import of pre-registrations ---------------------------------------------------------

    def _clear_plan(self) -> None:
        self.plan = None
        self.import_btn.setEnabled(False)
        self.issues_model.set_rows([])
        self.plan_summary.setText("")

    def check_file(self) -> None:
        """The dry run: read and check the file, show the report; writes nothing."""
        self._clear_plan()
        raw = self.import_path.text().strip()
        if not raw:
            self.banner.show_message(self.tr("Choose the file first."), "warning")
            return
        st, day = self.ctx.station, to_date(self.import_day.date())
        mraw = self.mapping_path.text().strip()

        def work() -> exchange.ImportPlan:
            return exchange.dry_run(st, raw, day, exchange.load_mapping(mraw or None))

        self.check_btn.setEnabled(False)
        self.ctx.tasks.read(work, owner=self, on_ok=self._checked, on_err=self._check_failed,
                            label="import-dry-run")

    def _check_failed(self, exc: BaseException) -> None:
        self.check_btn.setEnabled(True)
        self.banner.show_error(exc)

    def _checked(self, plan: exchange.ImportPlan) -> None:
        self.check_btn.setEnabled(True)
        self.plan = plan
        self.issues_model.set_rows(list(plan.issues))
        self.plan_summary.setText(
            self.tr("{read} rows read: {new} new people, {known} already known, "
                    "{there} already expected that day, {bad} rows left out.").format(
                read=plan.rows_read, new=plan.count("new"), known=plan.count("known"),
                there=plan.count("already_expected"), bad=len(plan.bad_rows)))
        self.import_btn.setEnabled(plan.to_add > 0)
        if plan.bad_rows:
            self.banner.show_message(
                self.tr("Nothing is imported yet. {bad} rows have problems (listed below) and "
                        "would be left out; fix the file and check again, or import the "
                        "{good} good rows.").format(bad=len(plan.bad_rows), good=plan.to_add),
                "warning")
        elif plan.to_add:
            self.banner.show_message(
                self.tr("Nothing is imported yet. All {n} rows can be imported.").format(n=plan.to_add),
                "ok")
        else:
            self.banner.show_message(self.tr("Everyone in this file is already expected that day."),
                                     "ok")

    def import_all(self) -> None:
        plan = self.plan
        if plan is None or plan.to_add == 0:
            return
        st, actor = self.ctx.station, self.session.actor
        self.import_btn.setEnabled(False)
        progress = Progress(self)
        progress.sig_progress.connect(self._import_progress)
        self.ctx.tasks.write(
            lambda: exchange.commit_import(st, actor, plan, progress=progress.report), owner=self,
            on_ok=self._imported, on_err=self._import_failed, label="import")

    def _import_progress(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        self.banner.show_message(
            self.tr("Importing… {percent}% (nothing is saved until every row is in)").format(
                percent=percent), "ok")

    def _import_failed(self, exc: BaseException) -> None:
        self.import_btn.setEnabled(self.plan is not None)
        self.banner.show_error(exc)

    def _imported(self, res: exchange.ImportResult) -> None:
        self._clear_plan()
        self.banner.show_message(
            self.tr("Imported: {people} new people, {regs} registrations for {day}.").format(
                people=res.people_added, regs=res.registrations_added,
                day=labels.site_date(res.day)), "ok")
        self.sig_status.emit(self.tr("Import done"))
        self.refresh()


__all__ = ["ImportIssuesModel", "ReportDosesModel", "ReportLotsModel", "ReportsWorkspace"]
