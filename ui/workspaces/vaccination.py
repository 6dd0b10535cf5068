"""Vaccination: the queue of people cleared today, dose history, and recording with few keys.

The lot in use (F8) and the injection site (F10) are chosen once per session and
remembered in the :class:`~ui.context.Session`; recording a dose for the selected
person is then one key (Enter). The core picks the product from the lot and the
person's age (a Moderna lot gives the 6-11 half dose to a child) and records the
volume. Warnings from the core (interval, mixing, expiry near, clock) come back as
``NeedsConfirmation``: the clerk confirms them explicitly in a dialog and the same
call is retried with those codes confirmed. Refusals only a supervisor may override
(age limits, a contraindication from today's screening) come back as
``NeedsOverride``: a supervisor gives a reason (and, at a clerk's desk, their own
login) and the call is retried with the override.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kernel import refdata
from kernel.errors import NeedsConfirmation, NeedsOverride, ValidationError
from station.dto import DoseDTO, DoseInput, DoseSuggestionDTO, LotDTO, PersonDTO, RegistrationDTO
from station.services import admin, clinical, people
from ui import labels, messages, theme
from ui.context import AppContext, Session
from ui.dialogs.confirm import ConfirmWarningsDialog
from ui.dialogs.override import OverrideDialog
from ui.dialogs.reason import ReasonDialog
from ui.models.table import Column, RowsModel
from ui.widgets.common import Banner, make_table, select_first, selected_row, shortcut
from ui.workspaces.base import Workspace


class ClearedModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("No."), lambda r: r[0].queue_label or "", bold=True),
                Column(self.tr("Full name"), lambda r: r[1].full_name),
                Column(self.tr("Born"), lambda r: r[1].birth_display),
                Column(self.tr("ID"), lambda r: "…" + r[1].id_number[-4:] if r[1].id_number else "—"),
            ],
            parent,
        )


class HistoryModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("Dose"), lambda d: str(d.dose_number), bold=True),
                Column(self.tr("Vaccine"), self._vaccine),
                Column(self.tr("Kind"), lambda d: labels.tr(labels.KIND, d.kind)),
                Column(self.tr("Date"), lambda d: labels.site_date(d.day)),
                Column(self.tr("Lot"), lambda d: d.lot_number or "—"),
                Column(self.tr("Where"), lambda d: self.tr("here") if d.source == "site" else self.tr("elsewhere")),
                Column(self.tr("Status"), lambda d: self.tr("VOIDED: {reason}").format(reason=d.void_reason)
                       if d.voided else "", color=lambda d: "#b00020" if d.voided else None),
            ],
            parent,
        )

    @staticmethod
    def _vaccine(d: DoseDTO) -> str:
        """The product, and the volume when it is not the product's standard dose."""
        name = labels.vaccine_short(d.vaccine_code)
        v = refdata.vaccines().get(d.vaccine_code)
        if d.volume_ml is not None and v is not None and v.dose_volume_ml != d.volume_ml:
            return f"{name} ({labels.volume(d.volume_ml)})"
        return name


class VaccinationWorkspace(Workspace):
    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(ctx, session, parent)
        self._busy = False
        self._person_id: str | None = None
        self._lots: list[LotDTO] = []
        self._suggestion: DoseSuggestionDTO | None = None
        self._given_today: DoseDTO | None = None
        self.confirm_dialog: ConfirmWarningsDialog | None = None
        self.override_dialog: OverrideDialog | None = None
        self.void_dialog: ReasonDialog | None = None
        self._preselect = False

        title = QLabel(self.tr("Vaccination"), self)
        theme.set_role(title, "h1")
        self.lot_combo = QComboBox(self)
        self.lot_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.lot_combo.setMinimumContentsLength(44)
        self.lot_combo.activated.connect(self._lot_chosen)
        lot_label = QLabel(self.tr("Lot in use (F8)"), self)
        lot_label.setBuddy(self.lot_combo)
        self.site_combo = QComboBox(self)
        for code in labels.INJECTION_SITE:
            self.site_combo.addItem(labels.tr(labels.INJECTION_SITE, code), code)
        self.site_combo.setPlaceholderText(self.tr("Choose (F10)"))
        self.site_combo.activated.connect(lambda _i: self.set_session_site(self.site_combo.currentData()))
        site_label = QLabel(self.tr("Injection site (F10)"), self)
        site_label.setBuddy(self.site_combo)
        self.banner = Banner(self)

        self.queue_model = ClearedModel(self)
        self.queue_view = make_table(self.queue_model, self, stretch_column=1)
        self.queue_view.selectionModel().selectionChanged.connect(lambda *_a: self._selected())
        self.queue_view.activated.connect(lambda _i: self.record())
        self.queue_title = QLabel(self)
        theme.set_role(self.queue_title, "h2")

        self.person = QLabel(self.tr("Choose a person from the queue"), self)
        self.person.setWordWrap(True)
        theme.set_role(self.person, "h2")
        self.suggest = QLabel(self)
        self.suggest.setWordWrap(True)
        self.history_model = HistoryModel(self)
        self.history_view = make_table(self.history_model, self)
        self.record_btn = QPushButton(self.tr("Record dose (Enter)"), self)
        self.record_btn.setProperty("role", "primary")
        self.record_btn.clicked.connect(self.record)
        self.void_btn = QPushButton(self.tr("Void selected dose… (Ctrl+Del)"), self)
        self.void_btn.clicked.connect(self.void_selected)
        self.void_btn.setVisible(session.can("void_dose"))

        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.person)
        rl.addWidget(self.suggest)
        hist_title = QLabel(self.tr("Dose history"), right)
        theme.set_role(hist_title, "h2")
        rl.addWidget(hist_title)
        rl.addWidget(self.history_view, 1)
        row = QHBoxLayout()
        row.addWidget(self.record_btn)
        # The site sits by the Record button: chosen once per session, seen at every dose.
        row.addWidget(site_label)
        row.addWidget(self.site_combo)
        row.addStretch(1)
        row.addWidget(self.void_btn)
        rl.addLayout(row)

        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.queue_title)
        ll.addWidget(self.queue_view, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([470, 690])
        split.setChildrenCollapsible(False)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(lot_label)
        top.addWidget(self.lot_combo)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.banner)
        lay.addWidget(split, 1)

        shortcut(QKeySequence(Qt.Key.Key_F8), self, self._focus_lot, local=True)
        shortcut(QKeySequence(Qt.Key.Key_F10), self, self._focus_site, local=True)
        self.site_combo.setCurrentIndex(self.site_combo.findData(session.injection_site)
                                        if session.injection_site else -1)
        shortcut("Ctrl+Del", self, self.void_selected, local=True)
        self._update_buttons()

    # ---- workspace API -----------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Vaccination")

    def shortcuts(self) -> list[tuple[str, str]]:
        out = [
            (self.tr("F8"), self.tr("Choose the lot in use for this session")),
            (self.tr("F10"), self.tr("Choose the injection site for this session")),
            (self.tr("↑ ↓"), self.tr("Choose the person")),
            (self.tr("Enter"), self.tr("Record the suggested dose with the session lot")),
            (self.tr("Space, Enter"), self.tr("In a warning: tick, then record anyway")),
        ]
        if self.session.can("void_dose"):
            out.append((self.tr("Ctrl+Del"), self.tr("Void the selected dose (reason required)")))
        return out

    def activate(self) -> None:
        # Arriving on the screen selects the first person waiting (Enter records them);
        # after a dose nothing is selected again, so a second Enter records nobody.
        self._preselect = True
        self.refresh()
        self.queue_view.setFocus()

    def refresh(self) -> None:
        st = self.ctx.station

        def load() -> tuple[list[tuple[RegistrationDTO, PersonDTO]], list[LotDTO]]:
            queue = people.registrations_for_day(st, status="cleared")
            lots = admin.list_lots(st, usable_on=st.today())
            return queue, lots

        self.ctx.tasks.read(load, owner=self, on_ok=self._loaded, on_err=self.banner.show_error,
                            label="vaccination-queue")

    def _loaded(self, result: tuple[list[tuple[RegistrationDTO, PersonDTO]], list[LotDTO]]) -> None:
        queue, lots = result
        self._lots = lots
        self.lot_combo.clear()
        for lot in lots:
            left = labels.number(lot.doses_received - lot.doses_used)
            self.lot_combo.addItem(
                self.tr("{vaccine} · lot {lot} · expires {expiry} · {left} left").format(
                    vaccine=labels.vaccine_short(lot.vaccine_code), lot=lot.lot_number,
                    expiry=labels.site_date(lot.expiry), left=left),
                lot.id,
            )
        if self.session.lot_id and self.lot_combo.findData(self.session.lot_id) >= 0:
            self.lot_combo.setCurrentIndex(self.lot_combo.findData(self.session.lot_id))
        else:
            self.session.lot_id = None
            self.lot_combo.setCurrentIndex(-1)
            self.lot_combo.setPlaceholderText(self.tr("Choose the lot (F8)"))
        current = selected_row(self.queue_view)
        self.queue_model.set_rows(queue)
        self.queue_title.setText(self.tr("Cleared, waiting: %n", "", len(queue)))
        if isinstance(current, tuple):
            for r, row in enumerate(queue):
                if row[0].id == current[0].id:
                    self.queue_view.selectRow(r)
        elif self._preselect:
            select_first(self.queue_view)
        self._preselect = False
        self._update_buttons()

    def _focus_lot(self) -> None:
        self.lot_combo.setFocus()
        self.lot_combo.showPopup()

    def _lot_chosen(self, _index: int) -> None:
        self.set_session_lot(self.lot_combo.currentData())

    def set_session_lot(self, lot_id: str | None) -> None:
        self.session.lot_id = lot_id
        idx = self.lot_combo.findData(lot_id) if lot_id else -1
        self.lot_combo.setCurrentIndex(idx)
        self._update_suggestion_text()
        self._update_buttons()
        self.queue_view.setFocus()

    def _focus_site(self) -> None:
        self.site_combo.setFocus()
        self.site_combo.showPopup()

    def set_session_site(self, site: str | None) -> None:
        """The injection site, remembered for this clerk's session (issue 12: not always
        the left arm)."""
        self.session.injection_site = site
        self.site_combo.setCurrentIndex(self.site_combo.findData(site) if site else -1)
        self._update_buttons()
        self.queue_view.setFocus()

    def session_lot(self) -> LotDTO | None:
        return next((lot for lot in self._lots if lot.id == self.session.lot_id), None)

    # ---- person -----------------------------------------------------------------------

    def _selected(self) -> None:
        row = selected_row(self.queue_view)
        if isinstance(row, tuple):
            person = row[1]
            assert isinstance(person, PersonDTO)
            self.person.setText(f"{row[0].queue_label or ''}  {person.full_name} · {person.birth_display}")
            self._load_person(person.id)
        self._update_buttons()

    def _load_person(self, person_id: str) -> None:
        self._person_id = person_id
        st = self.ctx.station
        self.ctx.tasks.read(
            lambda: (clinical.dose_history(st, person_id), clinical.suggest_dose(st, person_id)),
            owner=self, on_ok=lambda r: self._person_loaded(person_id, r),
            on_err=self.banner.show_error, label="dose-history",
        )

    def _person_loaded(self, person_id: str, result: tuple[list[DoseDTO], DoseSuggestionDTO]) -> None:
        if person_id != self._person_id:
            return
        history, suggestion = result
        self.history_model.set_rows(history)
        self._suggestion = suggestion
        # A dose given today (here or at another desk, pulled from the site hub): shown
        # before Enter; the save checks again in its own transaction (station.services.doses).
        today = self.ctx.station.today().isoformat()
        self._given_today = next((d for d in reversed(history) if d.day == today and not d.voided), None)
        self._update_suggestion_text()

    def _update_suggestion_text(self) -> None:
        s = self._suggestion
        if s is None:
            self.suggest.setText("")
            return
        given = self._given_today
        if s.complete:
            text = self.tr("No further dose is due.")
        else:
            names = ", ".join(labels.vaccine_name(c) for c in s.vaccine_codes)
            text = self.tr("Suggested: dose {n}, {kind} — {vaccines}").format(
                n=s.dose_number, kind=labels.tr(labels.KIND, s.kind), vaccines=names)
            if s.earliest:
                text += " · " + self.tr("from {day}").format(day=labels.site_date(s.earliest))
            if s.recommended and s.recommended != s.earliest:
                text += " · " + self.tr("recommended from {day}").format(
                    day=labels.site_date(s.recommended))
            if s.profile and s.profile != "national":
                profile = refdata.province_profile(s.profile)
                text += " · " + self.tr("intervals of {profile}").format(
                    profile=profile.name_vi if labels.is_vietnamese() else profile.name_en)
        lot = self.session_lot()
        # A Moderna lot also gives the 6-11 half dose: compare the products the lot can give.
        if (lot is not None and s.vaccine_codes
                and not set(refdata.products_for_lot(lot.vaccine_code)) & set(s.vaccine_codes)):
            text += "\n⚠ " + self.tr("The lot in use ({vaccine}) is not a suggested vaccine.").format(
                vaccine=labels.vaccine_name(lot.vaccine_code))
        if given is not None:
            text = "⚠ " + self.tr("Already vaccinated today: {vaccine} at {time}.").format(
                vaccine=labels.vaccine_name(given.vaccine_code),
                time=labels.site_time(given.administered_at)) + "\n" + text
        self.suggest.setText(text)

    def _update_buttons(self) -> None:
        has_person = isinstance(selected_row(self.queue_view), tuple)
        self.record_btn.setEnabled(has_person and self.session.lot_id is not None
                                   and self.session.injection_site is not None and not self._busy)

    # ---- recording ----------------------------------------------------------------------

    def record(self, confirm: frozenset[str] = frozenset()) -> None:
        row = selected_row(self.queue_view)
        if not isinstance(row, tuple) or self._busy:
            return
        if self.session.lot_id is None:
            self.banner.show_message(self.tr("Choose the lot in use first (F8)."), "error")
            self._focus_lot()
            return
        if self.session.injection_site is None:
            self.banner.show_message(self.tr("Choose the injection site first (F10)."), "error")
            self._focus_site()
            return
        data = DoseInput(person_id=row[1].id, lot_id=self.session.lot_id, confirm=confirm,
                         injection_site=self.session.injection_site)
        self._submit(data)

    def _submit(self, data: DoseInput, login: tuple[str, str] | None = None) -> None:
        self._busy = True
        self._update_buttons()
        st, actor = self.ctx.station, self.session.actor

        def work() -> DoseDTO:
            # The supervisor at a clerk's desk proves who they are like a login (audited).
            supervisor = admin.login(st, *login) if login else None
            return clinical.record_dose(st, actor, data, supervisor=supervisor)

        self.ctx.tasks.write(
            work, owner=self, on_ok=self._recorded,
            on_err=lambda exc: self._failed(data, exc, login), label="record-dose",
        )

    def _failed(self, data: DoseInput, exc: BaseException,
                login: tuple[str, str] | None = None) -> None:
        self._busy = False
        self._update_buttons()
        if isinstance(exc, NeedsOverride):
            self._ask_override(data, exc)
            return
        if isinstance(exc, NeedsConfirmation):
            dialog = ConfirmWarningsDialog(exc.warnings, self)
            self.confirm_dialog = dialog

            def done(code: int) -> None:
                self.confirm_dialog = None
                dialog.deleteLater()
                if code == ConfirmWarningsDialog.DialogCode.Accepted:
                    self._submit(replace(data, confirm=data.confirm | dialog.codes), login)
                else:
                    self.queue_view.setFocus()

            dialog.finished.connect(done)
            dialog.open()
            return
        self.banner.show_error(exc)
        if isinstance(exc, ValidationError) and any(i.code.startswith("dose.same_day") for i in exc.issues):
            # The dose another desk gave (pulled since this person was opened): show it now.
            self._load_person(data.person_id)

    def _ask_override(self, data: DoseInput, exc: NeedsOverride) -> None:
        needs_login = not self.session.can("override_dose_rule")
        dialog = OverrideDialog(exc.issues, needs_login=needs_login, parent=self)
        self.override_dialog = dialog

        def done(code: int) -> None:
            self.override_dialog = None
            dialog.deleteLater()
            if code != OverrideDialog.DialogCode.Accepted:
                self.banner.show_error(exc)
                self.queue_view.setFocus()
                return
            reason, username, password = dialog.values()
            login = (username, password) if username and password is not None else None
            self._submit(replace(data, override=data.override | dialog.codes,
                                 override_reason=reason), login)

        dialog.finished.connect(done)
        dialog.open()

    def _recorded(self, dose: DoseDTO) -> None:
        self._busy = False
        vaccine = labels.vaccine_name(dose.vaccine_code)
        if dose.volume_ml is not None:
            vaccine += f" {labels.volume(dose.volume_ml)}"
        text = self.tr("Recorded: dose {n} {vaccine}, lot {lot}, at {time}. Observe until {until}.").format(
            n=dose.dose_number, vaccine=vaccine, lot=dose.lot_number,
            time=labels.site_time(dose.administered_at), until=labels.site_time(dose.observe_until))
        notes = [messages.issue_text(w) for w in dose.warnings if w.severity == "info"]
        if dose.override_reason:
            notes.append(self.tr("Supervisor override: {reason}").format(reason=dose.override_reason))
        self.banner.show_message(" ".join([text, *notes]), "warning" if notes else "ok")
        self.sig_status.emit(self.tr("Dose recorded"))
        # No automatic move to the next person: a second Enter must not record someone else.
        self.queue_view.clearSelection()
        self._load_person(dose.person_id)
        self.refresh()
        self.queue_view.setFocus()

    # ---- voiding ----------------------------------------------------------------------------

    def void_selected(self) -> None:
        if not self.session.can("void_dose"):
            return
        dose = selected_row(self.history_view)
        if not isinstance(dose, DoseDTO) or dose.voided:
            self.banner.show_message(self.tr("Select a dose in the history first."), "warning")
            return
        dialog = ReasonDialog(self.tr("Void this dose"), self.tr(
            "The dose stays in the record, marked void, with your reason. Why is it void?"),
            self.tr("Void the dose"), self, cancel=self.tr("Keep the dose (Esc)"))
        self.void_dialog = dialog

        def done(code: int) -> None:
            self.void_dialog = None
            dialog.deleteLater()
            if code != ReasonDialog.DialogCode.Accepted:
                return
            st, actor, reason = self.ctx.station, self.session.actor, dialog.text()
            self.ctx.tasks.write(
                lambda: clinical.void_dose(st, actor, dose.id, reason), owner=self,
                on_ok=lambda _d: self._voided(dose.person_id), on_err=self.banner.show_error,
                label="void-dose",
            )

        dialog.finished.connect(done)
        dialog.open()

    def _voided(self, person_id: str) -> None:
        self.banner.show_message(self.tr("The dose was voided."), "ok")
        self._load_person(person_id)
        self.refresh()
