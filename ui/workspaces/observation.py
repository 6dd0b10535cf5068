"""Observation: everyone vaccinated in the last 30 minutes, with the time left.

The countdown ticks once a second from the station clock without touching the
database; the list itself is reloaded from the core every 15 seconds and after
each action.

Enter is the key pressed all day here, so it never ends an observation early by
itself: before the time is up it asks why (``EarlyEndDialog``). Either way the
end is written only after a few seconds in which Ctrl+Z takes it back (the row
leaves the list at once); leaving the window (log out, user switch, quit)
writes what is pending at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kernel.clock import parse_iso
from station import reports
from station.dto import DoseDTO, PersonDTO, RegistrationDTO
from station.services import clinical, people
from station.store import Station
from ui import labels, messages, printing, theme
from ui.context import AppContext, Session
from ui.dialogs.adverse_event import AdverseEventDialog
from ui.dialogs.early_end import EarlyEndDialog
from ui.models.table import ROW_ROLE, Column, RowsModel
from ui.widgets.common import Banner, UndoBar, make_table, select_first, selected_row, shortcut
from ui.workspaces.base import Workspace

RELOAD_MS = 15_000
TIME_LEFT_COLUMN = 4
UNDO_MS = 8_000  # how long an end of observation can be taken back before it is written


@dataclass
class PendingEnd:
    watched: Watched
    early_reason: str | None
    timer: QTimer


@dataclass(frozen=True, slots=True)
class Watched:
    registration: RegistrationDTO
    person: PersonDTO
    dose: DoseDTO


def load_watch_list(st: Station) -> list[Watched]:
    """People vaccinated today at this site whose observation is not marked done (worker)."""
    out = []
    for reg, person in people.registrations_for_day(st, status="vaccinated"):
        doses = [d for d in clinical.dose_history(st, person.id)
                 if d.day == reg.day and d.source == "site" and not d.voided and d.observed_at is None]
        if doses:
            out.append(Watched(reg, person, doses[-1]))
    out.sort(key=lambda w: w.dose.observe_until or "")
    return out


class WatchModel(RowsModel):
    def __init__(self, ws: ObservationWorkspace, parent: QObject | None = None) -> None:
        self._ws = ws
        super().__init__(
            [
                Column(self.tr("No."), lambda w: w.registration.queue_label or "", bold=True),
                Column(self.tr("Full name"), lambda w: w.person.full_name),
                Column(self.tr("Dose"), lambda w: f"{w.dose.dose_number} · {labels.vaccine_name(w.dose.vaccine_code)}"),
                Column(self.tr("Given"), lambda w: labels.site_time(w.dose.administered_at)),
                Column(self.tr("Time left"), self._left, bold=True,
                       color=lambda w: "#0b6e2e" if self._ws.seconds_left(w) <= 0 else "#b00020"),
            ],
            parent,
        )

    def _left(self, w: Watched) -> str:
        left = self._ws.seconds_left(w)
        return self.tr("may leave") if left <= 0 else labels.duration(left)


def select_where_dose(view: QTableView, dose_id: str) -> None:
    model = view.model()
    for r in range(model.rowCount()):
        w = model.index(r, 0).data(ROW_ROLE)
        if isinstance(w, Watched) and w.dose.id == dose_id:
            view.selectRow(r)
            return


class ObservationWorkspace(Workspace):
    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(ctx, session, parent)
        self.ae_dialog: AdverseEventDialog | None = None
        self.early_dialog: EarlyEndDialog | None = None
        self.undo_ms = UNDO_MS
        self._pending: dict[str, PendingEnd] = {}  # dose id -> an end not written yet
        self._rows: list[Watched] = []
        title = QLabel(self.tr("Observation (30 minutes)"), self)
        theme.set_role(title, "h1")
        self.banner = Banner(self)
        self.model = WatchModel(self, self)
        self.view = make_table(self.model, self)
        self.view.activated.connect(lambda _i: self.mark_done())
        self.count = QLabel(self)
        theme.set_role(self.count, "h2")
        self.done_btn = QPushButton(self.tr("Observation done (Enter)"), self)
        self.done_btn.setProperty("role", "primary")
        self.done_btn.clicked.connect(self.mark_done)
        self.ae_btn = QPushButton(self.tr("Adverse event… (Ctrl+E)"), self)
        self.ae_btn.clicked.connect(self.record_event)
        # The certificate is handed over after observation: the slip of the person
        # last marked done (vietnam.md §2.4, §2.8).
        self.last_done: Watched | None = None
        self.last_slip: Path | None = None
        self.slip_btn = QPushButton(self.tr("Print slip (Ctrl+P)"), self)
        self.slip_btn.setEnabled(False)
        self.slip_btn.clicked.connect(self.print_slip)
        # The slip goes straight to the printer chosen once (remembered in the settings), on
        # the paper chosen here; the PDF stays for a site without a printer driver.
        self.layout_combo = QComboBox(self)
        for key, text in (("a4", self.tr("A4")), ("a5", self.tr("A5")),
                          ("receipt80", self.tr("Receipt 80 mm"))):
            self.layout_combo.addItem(text, key)
        self.layout_combo.setCurrentIndex(max(0, self.layout_combo.findData(ctx.settings.slip_layout)))
        self.layout_combo.currentIndexChanged.connect(lambda _i: self._remember(
            slip_layout=str(self.layout_combo.currentData())))
        self.printer_btn = QPushButton(self.tr("Printer… (Ctrl+Shift+P)"), self)
        self.printer_btn.clicked.connect(self.choose_printer)
        self.pdf_btn = QPushButton(self.tr("Slip as PDF"), self)
        self.pdf_btn.setEnabled(False)
        self.pdf_btn.clicked.connect(lambda: self.print_slip(pdf=True))
        self.undo_bar = UndoBar(self)
        self.undo_bar.button.clicked.connect(self.undo)
        row = QHBoxLayout()
        row.addWidget(self.done_btn)
        row.addWidget(self.ae_btn)
        row.addStretch(1)
        # The slip's controls on their own row: in Vietnamese one row would not fit 1366 px.
        print_row = QHBoxLayout()
        print_row.addWidget(self.slip_btn)
        print_row.addWidget(self.layout_combo)
        print_row.addWidget(self.printer_btn)
        print_row.addWidget(self.pdf_btn)
        print_row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.banner)
        lay.addWidget(self.count)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.undo_bar)
        lay.addLayout(row)
        lay.addLayout(print_row)
        self.ae_btn.setEnabled(session.can("record_adverse_event"))
        shortcut("Ctrl+E", self, self.record_event, local=True)
        shortcut("Ctrl+P", self, self.print_slip, local=True)
        shortcut("Ctrl+Shift+P", self, self.choose_printer, local=True)
        shortcut("Ctrl+Z", self, self.undo, local=True)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(lambda: self.model.refresh_column(TIME_LEFT_COLUMN))
        self._reload = QTimer(self)
        self._reload.setInterval(RELOAD_MS)
        self._reload.timeout.connect(self.refresh)

    def title(self) -> str:
        return self.tr("Observation")

    def shortcuts(self) -> list[tuple[str, str]]:
        return [
            (self.tr("↑ ↓"), self.tr("Choose the person")),
            (self.tr("Enter"), self.tr("Observation done: hand over the certificate")),
            (self.tr("Ctrl+Z"), self.tr("Undo the last “observation done” (a few seconds)")),
            (self.tr("Ctrl+E"), self.tr("Record an adverse event")),
            (self.tr("Ctrl+P"), self.tr("Print the confirmation slip of the person just done")),
            (self.tr("Ctrl+Shift+P"), self.tr("Choose the slip's printer")),
        ]

    def activate(self) -> None:
        self.refresh()
        self._tick.start()
        self._reload.start()
        self.view.setFocus()

    def seconds_left(self, w: Watched) -> float:
        if not w.dose.observe_until:
            return 0.0
        return (parse_iso(w.dose.observe_until) - self.ctx.now()).total_seconds()

    def refresh(self) -> None:
        st = self.ctx.station
        self.ctx.tasks.read(lambda: load_watch_list(st), owner=self, on_ok=self._loaded,
                            on_err=self.banner.show_error, label="observation")

    def _loaded(self, rows: list[Watched]) -> None:
        self._rows = rows
        self._show_rows()

    def _show_rows(self) -> None:
        # Ends still in their undo time are not shown: for the clerk they are done.
        rows = [w for w in self._rows if w.dose.id not in self._pending]
        current = selected_row(self.view)
        self.model.set_rows(rows)
        self.count.setText(self.tr("Under observation: %n", "", len(rows)))
        if isinstance(current, Watched):
            for r, w in enumerate(rows):
                if w.dose.id == current.dose.id:
                    self.view.selectRow(r)
                    return
        select_first(self.view)

    def mark_done(self) -> None:
        w = selected_row(self.view)
        if not isinstance(w, Watched) or w.dose.id in self._pending or self.early_dialog is not None:
            return
        left = self.seconds_left(w)
        if left <= 0:
            self._schedule_end(w, None)
            return
        dialog = EarlyEndDialog(f"{w.person.full_name} · {w.person.birth_display}", labels.duration(left),
                                labels.site_time(w.dose.observe_until), self)
        self.early_dialog = dialog

        def done(code: int) -> None:
            self.early_dialog = None
            dialog.deleteLater()
            reason = dialog.reason()
            if code == EarlyEndDialog.DialogCode.Accepted and reason is not None:
                self._schedule_end(w, reason)
            self.activateWindow()  # back from the dialog: keys go to the list again
            self.view.setFocus()

        dialog.finished.connect(done)
        dialog.open()

    def _schedule_end(self, w: Watched, early_reason: str | None) -> None:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: self._commit(w.dose.id))
        self._pending[w.dose.id] = PendingEnd(w, early_reason, timer)
        timer.start(self.undo_ms)
        name = w.person.full_name
        text = (self.tr("Observation ended early: {name}.") if early_reason
                else self.tr("Observation done: {name} may leave.")).format(name=name)
        self.undo_bar.show_undo(text, self.tr("Undo (Ctrl+Z)"))
        self.banner.clear_message()
        self._show_rows()

    def undo(self) -> None:
        """Take back the most recent end that is not written yet."""
        if not self._pending:
            return
        dose_id = next(reversed(self._pending))
        pending = self._pending.pop(dose_id)
        pending.timer.stop()
        pending.timer.deleteLater()
        self.undo_bar.hide()
        self.banner.show_message(self.tr("Undone: {name} is under observation again.").format(
            name=pending.watched.person.full_name), "ok")
        self._show_rows()
        select_where_dose(self.view, dose_id)
        self.view.setFocus()

    def pending_ends(self) -> list[str]:
        return list(self._pending)

    def flush_pending(self) -> None:
        """Write every pending end now (the window is going away: nothing is dropped)."""
        for dose_id in list(self._pending):
            self._commit(dose_id)

    def _commit(self, dose_id: str) -> None:
        pending = self._pending.get(dose_id)
        if pending is None:
            return
        pending.timer.stop()
        reason = pending.early_reason
        st, actor = self.ctx.station, self.session.actor

        def failed(exc: BaseException) -> None:
            self._pending.pop(dose_id, None)
            self.undo_bar.hide()
            self.banner.show_error(exc)
            self.refresh()

        self.ctx.tasks.write(lambda: clinical.end_observation(st, actor, dose_id, early_reason=reason),
                             owner=self, on_ok=lambda _d: self._done(dose_id), on_err=failed,
                             label="end-observation")

    def _done(self, dose_id: str) -> None:
        pending = self._pending.pop(dose_id, None)
        if pending is None:
            return
        pending.timer.deleteLater()
        if not self._pending:
            self.undo_bar.hide()
        self.last_done = pending.watched
        self.slip_btn.setEnabled(True)
        self.pdf_btn.setEnabled(True)
        self.sig_status.emit(self.tr("Observation done: {name}").format(name=pending.watched.person.full_name))
        self.refresh()

    def record_event(self) -> None:
        w = selected_row(self.view)
        if not isinstance(w, Watched) or not self.session.can("record_adverse_event"):
            return
        dialog = AdverseEventDialog(f"{w.person.full_name} · {w.person.birth_display}", self.ctx.now(), self)
        self.ae_dialog = dialog

        def done(code: int) -> None:
            if code != AdverseEventDialog.DialogCode.Accepted:
                self.ae_dialog = None
                dialog.deleteLater()
                return
            severity, description, onset = dialog.values()
            st, actor, dose_id = self.ctx.station, self.session.actor, w.dose.id

            def failed(exc: BaseException) -> None:
                # Keep what was typed: reopen the dialog with the errors next to the fields.
                dialog.show_issues(messages.field_issues(exc))
                if not messages.field_issues(exc):
                    self.banner.show_error(exc)
                dialog.open()

            self.ctx.tasks.write(
                lambda: clinical.record_adverse_event(st, actor, dose_id, severity=severity,
                                                      description=description, onset_at=onset),
                owner=self, on_ok=lambda _r: self._event_saved(dialog), on_err=failed,
                label="adverse-event",
            )

        dialog.finished.connect(done)
        dialog.open()

    def _event_saved(self, dialog: AdverseEventDialog) -> None:
        self.ae_dialog = None
        dialog.deleteLater()
        self.banner.show_message(self.tr("Adverse event recorded. Inform the supervisor if it is serious."), "warning")
        self.sig_status.emit(self.tr("Adverse event recorded"))

    # ---- the slip: printer or PDF ------------------------------------------------------

    def _remember(self, *, slip_layout: str, slip_printer: str | None = None) -> None:
        s = self.ctx.settings
        self.ctx.save_settings(replace(s, slip_layout=slip_layout, slip_printer=(
            s.slip_printer if slip_printer is None else slip_printer)))

    def choose_printer(self) -> bool:
        """The print dialog; the chosen printer (and a receipt roll's paper) is remembered."""
        choice = printing.ask_printer(self, self.ctx.settings.slip_printer)
        if choice is None or not choice.name:
            return False
        layout = str(self.layout_combo.currentData())
        if printing.layout_for_page_width(choice.page_width_mm) == "receipt80":
            layout = "receipt80"  # a receipt printer's roll: the A4 slip would not fit
        self._remember(slip_printer=choice.name, slip_layout=layout)
        self.layout_combo.blockSignals(True)
        self.layout_combo.setCurrentIndex(max(0, self.layout_combo.findData(layout)))
        self.layout_combo.blockSignals(False)
        self.banner.show_message(self.tr("Slips go to {printer}.").format(printer=choice.name), "ok")
        return True

    def print_slip(self, pdf: bool = False) -> None:
        w = self.last_done
        if w is None:
            return
        st, pid = self.ctx.station, w.person.id
        self.ctx.tasks.read(lambda: reports.slip_data(st, pid), owner=self,
                            on_ok=lambda s: self._slip_ready(s, pdf=pdf),
                            on_err=self.banner.show_error, label="slip")

    def _slip_ready(self, slip: reports.SlipData, pdf: bool = False) -> None:
        printers = printing.available_printers()
        if not pdf and printers:
            self._print_to_printer(slip, printers)
            return
        self._slip_pdf(slip, no_printer=not pdf)

    def _print_to_printer(self, slip: reports.SlipData, printers: list[str]) -> None:
        name = self.ctx.settings.slip_printer
        if name not in printers and not self.choose_printer():
            return  # the dialog was cancelled: nothing printed, the button stays
        name = self.ctx.settings.slip_printer
        printer = printing.make_printer(name)
        try:
            printing.print_slip_to(printer, slip, layout=self.ctx.settings.slip_layout)
        except (OSError, RuntimeError):
            self.banner.show_message(self.tr("The slip could not be sent to {printer}.").format(
                printer=name), "error")
            return
        self.banner.show_message(self.tr("Slip sent to {printer}.").format(printer=name), "ok")

    def _slip_pdf(self, slip: reports.SlipData, *, no_printer: bool) -> None:
        # The file name carries the day and the queue number, never the person's name.
        label = self.last_done.registration.queue_label if self.last_done else None
        name = f"giay-xac-nhan-{slip.printed_on}-{label or slip.person.id[-6:]}.pdf"
        try:
            path = printing.print_slip_pdf(slip, printing.prints_dir() / name,
                                           layout=self.ctx.settings.slip_layout)
        except OSError:
            self.banner.show_message(self.tr("The slip could not be written."), "error")
            return
        self.last_slip = path
        if printing.open_pdf(path):
            text = (self.tr("No printer is installed: the slip is a PDF to print from the viewer: {path}")
                    if no_printer else self.tr("Slip ready to print: {path}"))
            self.banner.show_message(text.format(path=path), "ok")
        else:
            self.banner.show_message(self.tr(
                "No PDF viewer opened. The slip is saved here; open it to print: {path}").format(path=path),
                "warning")
