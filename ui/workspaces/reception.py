"""Reception: today's list, type-ahead search, CCCD scans, walk-ins and check-in.

Searching runs as you type (150 ms after the last key) in the read pool; a
result that arrives after the text changed again is dropped, so the table
always matches the box. A CCCD QR scanned anywhere in the window lands here
(:class:`~ui.widgets.scan.ScanCatcher`): a known ID selects that person, an
unknown one opens the walk-in form filled from the card.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kernel.errors import FieldIssue
from kernel.rules.vietnam import CccdQr, parse_cccd_qr
from station.dto import PersonDTO, PersonHit, RegisterResult, RegistrationDTO
from station.search import find_by_id_number, search
from station.services import people
from ui import labels, messages, theme
from ui.context import AppContext, Session
from ui.models.table import Column, RowsModel
from ui.widgets.common import Banner, make_table, select_first, select_where, selected_row, shortcut
from ui.workspaces.base import Workspace
from ui.workspaces.registration_form import RegistrationForm

SEARCH_DEBOUNCE_MS = 150
TODAY_REFRESH_MS = 30_000
STATUS_COLOURS = {"expected": "#444444", "checked_in": "#0b4f9c", "cleared": "#0b6e2e",
                  "deferred": "#b00020", "vaccinated": "#0b6e2e", "observed": "#555555"}

TodayRow = tuple[RegistrationDTO, PersonDTO]


class TodayModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("No."), lambda r: r[0].queue_label or "", bold=True),
                Column(self.tr("Full name"), lambda r: r[1].full_name),
                Column(self.tr("Born"), lambda r: r[1].birth_display),
                Column(self.tr("ID"), lambda r: _tail(r[1].id_number)),
                Column(self.tr("Status"), lambda r: labels.tr(labels.STATUS, r[0].status),
                       color=lambda r: STATUS_COLOURS.get(r[0].status)),
                Column(self.tr("Source"), lambda r: labels.tr(labels.SOURCE, r[0].source)),
            ],
            parent,
        )


class HitsModel(RowsModel):
    def __init__(self, today: dict[str, RegistrationDTO], parent: QObject | None = None) -> None:
        self._today = today
        super().__init__(
            [
                Column(self.tr("Full name"), lambda h: h.full_name, bold=True),
                Column(self.tr("Born"), lambda h: h.birth_display),
                Column(self.tr("ID"), lambda h: h.id_tail),
                Column(self.tr("Phone"), lambda h: h.phone_tail),
                Column(self.tr("Last dose"), self._last_dose),
                Column(self.tr("Today"), self._today_text),
            ],
            parent,
        )

    def _last_dose(self, h: PersonHit) -> str:
        d = h.last_dose
        if d is None:
            return "—"
        return self.tr("dose {n} {vaccine} · {day}").format(
            n=d.dose_number, vaccine=labels.vaccine_short(d.vaccine_code), day=labels.site_date(d.day)
        )

    def _today_text(self, h: PersonHit) -> str:
        reg = self._today.get(h.person_id)
        if reg is None:
            return "—"
        text = labels.tr(labels.STATUS, reg.status)
        return f"{reg.queue_label} · {text}" if reg.queue_label else text


def _tail(number: str | None) -> str:
    return "…" + number[-4:] if number else "—"


class ReceptionWorkspace(Workspace):
    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(ctx, session, parent)
        self._today_by_person: dict[str, RegistrationDTO] = {}
        self._search_seq = 0
        self._select_after_refresh: str | None = None  # registration to show once reloaded

        title = QLabel(self.tr("Reception"), self)
        theme.set_role(title, "h1")
        self.scan_hint = QLabel(self.tr("Scanner ready: scan the QR code on the CCCD at any time"), self)
        theme.set_role(self.scan_hint, "banner-ok")
        self.scan_hint.setWordWrap(True)
        self.scan_input = QLineEdit(self)
        self.scan_input.setPlaceholderText(self.tr("…or paste the QR text here and press Enter"))
        self.scan_input.returnPressed.connect(lambda: self.handle_scan(self.scan_input.text()))
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText(
            self.tr("Search (Ctrl+F): name, phone or ID number")
        )
        self.search_box.setToolTip(self.tr(
            "Name with or without accents, in any order; a phone or ID number, or its last digits"))
        self.search_box.setClearButtonEnabled(True)
        self.search_box.installEventFilter(self)
        self.banner = Banner(self)

        self.today_model = TodayModel(self)
        # The core already orders it: queue number, then given name (Vietnamese list order).
        self.today_view = make_table(self.today_model, self, stretch_column=1)
        self.hits_model = HitsModel(self._today_by_person, self)
        self.hits_view = make_table(self.hits_model, self, stretch_column=0)
        self.lists = QStackedWidget(self)
        self.lists.addWidget(self.today_view)
        self.lists.addWidget(self.hits_view)
        self.list_title = QLabel(self)
        theme.set_role(self.list_title, "h2")
        self.list_title.setWordWrap(True)
        for view in (self.today_view, self.hits_view):
            view.activated.connect(lambda _i: self.primary_action())
            view.selectionModel().selectionChanged.connect(lambda *_a: self._show_selected())

        # Right side: the selected person, or the walk-in form.
        self.person_name = QLabel(self)
        theme.set_role(self.person_name, "h2")
        self.person_name.setWordWrap(True)
        self.person_facts = QLabel(self)
        self.person_facts.setWordWrap(True)
        self.queue_caption = QLabel(self.tr("Queue number"), self)
        self.queue_label = QLabel("", self)
        theme.set_role(self.queue_label, "queue")
        self.queue_caption.hide()
        self.checkin_btn = QPushButton(self.tr("Check in (Enter)"), self)
        self.checkin_btn.setProperty("role", "primary")
        self.checkin_btn.clicked.connect(self.primary_action)
        self.walkin_btn = QPushButton(self.tr("New walk-in (Ctrl+N)"), self)
        self.walkin_btn.clicked.connect(self.open_walk_in)
        person_page = QWidget(self)
        pl = QVBoxLayout(person_page)
        pl.addWidget(self.person_name)
        pl.addWidget(self.person_facts)
        pl.addSpacing(12)
        pl.addWidget(self.queue_caption)
        pl.addWidget(self.queue_label)
        pl.addStretch(1)
        # One above the other: the card is narrow, the lists beside it get the width.
        pl.addWidget(self.checkin_btn)
        pl.addWidget(self.walkin_btn)

        self.form = RegistrationForm(ctx, session, self)
        self.form.sig_registered.connect(self._walk_in_registered)
        self.form.sig_use_existing.connect(self._use_existing_person)
        self.form.sig_cancelled.connect(self.close_walk_in)

        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.search_box)
        ll.addWidget(self.list_title)
        ll.addWidget(self.lists, 1)
        # The lists get the room their columns need (ID, status, source, last dose...);
        # the card needs little.
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(person_page)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([860, 300])
        split.setChildrenCollapsible(False)
        # The walk-in form takes the whole width while it is open (index 1); the lists and
        # the card come back when it closes (index 0).
        form_page = QWidget(self)
        fpl = QHBoxLayout(form_page)
        fpl.setContentsMargins(0, 0, 0, 0)
        self.form.setMaximumWidth(1000)
        fpl.addWidget(self.form, 1)
        fpl.addStretch(0)
        self.right = QStackedWidget(self)
        self.right.addWidget(split)
        self.right.addWidget(form_page)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.scan_hint, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.scan_input)
        lay.addWidget(self.banner)
        lay.addWidget(self.right, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._run_search)
        self.search_box.textChanged.connect(self._search_text_changed)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(TODAY_REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh_today)
        self._show_list()
        self._show_person(None, None)
        shortcut("Ctrl+N", self, self.open_walk_in, local=True)

    # ---- workspace API ----------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Reception")

    def shortcuts(self) -> list[tuple[str, str]]:
        return [
            (self.tr("Ctrl+F"), self.tr("Search by name, phone or ID")),
            (self.tr("↓ then Enter"), self.tr("Choose a result and check the person in")),
            (self.tr("Ctrl+N"), self.tr("New walk-in registration")),
            (self.tr("Scan"), self.tr("CCCD QR: finds the person or fills a new registration")),
            (self.tr("Esc"), self.tr("Close the form (asks if it has input) / clear the search")),
        ]

    def activate(self) -> None:
        self.refresh_today()
        self._refresh_timer.start()
        if self.right.currentIndex() != 1:
            self.search_box.setFocus()

    def focus_search(self) -> None:
        self.close_walk_in()
        self.search_box.setFocus()
        self.search_box.selectAll()

    # ---- today's list -------------------------------------------------------------------

    def refresh_today(self) -> None:
        st = self.ctx.station
        self.ctx.tasks.read(
            lambda: people.registrations_for_day(st), owner=self, on_ok=self._today_loaded,
            on_err=self.banner.show_error, label="today",
        )

    def _today_loaded(self, rows: list[tuple[RegistrationDTO, PersonDTO]]) -> None:
        keep = selected_row(self.today_view)
        wanted = self._select_after_refresh or (keep[0].id if isinstance(keep, tuple) else None)
        self._select_after_refresh = None
        self._today_by_person.clear()
        self._today_by_person.update({reg.person_id: reg for reg, _p in rows})
        self.today_model.set_rows(rows)
        self.hits_model.set_rows(self.hits_model.rows())  # refresh the "Today" column
        if wanted is not None:
            select_where(self.today_view, lambda r: r[0].id == wanted)
        self._update_list_title()

    def _update_list_title(self) -> None:
        if self.lists.currentWidget() is self.hits_view:
            self.list_title.setText(self.tr("Search results: %n", "", self.hits_model.rowCount()))
        else:
            rows = self.today_model.rows()
            waiting = sum(1 for r in rows if r[0].status == "expected")
            self.list_title.setText(
                self.tr("Today: %n people", "", len(rows)) + " · " + self.tr("%n not arrived yet", "", waiting)
            )

    # ---- search -------------------------------------------------------------------------

    def _search_text_changed(self, text: str) -> None:
        if not text.strip():
            self._debounce.stop()
            self._search_seq += 1  # any search in flight is now stale
            self.hits_model.set_rows([])
            self._show_list()
            self._show_selected()
            return
        self._debounce.start()

    def _run_search(self) -> None:
        query = self.search_box.text().strip()
        if not query:
            return
        self._search_seq += 1
        seq = self._search_seq
        st = self.ctx.station
        self.ctx.tasks.read(
            lambda: search(st, query, limit=50), owner=self,
            on_ok=lambda hits: self._search_done(seq, hits), on_err=self.banner.show_error,
            label="search",
        )

    def _search_done(self, seq: int, hits: list[PersonHit]) -> None:
        if seq != self._search_seq:
            return  # typed on since: a newer search is coming
        self.hits_model.set_rows(hits)
        self.lists.setCurrentWidget(self.hits_view)
        self._update_list_title()
        # The card follows the list: no result, no card (never the previous person's).
        self._show_selected()

    def _show_list(self) -> None:
        self.lists.setCurrentWidget(self.today_view)
        self._update_list_title()

    def current_view(self) -> QTableView:
        w = self.lists.currentWidget()
        assert isinstance(w, QTableView)
        return w

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search_box and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self._debounce.isActive():
                    # Enter right after typing: search now rather than act on old results.
                    self._debounce.stop()
                    self._run_search()
                    return True
                view = self.current_view()
                if select_first(view):
                    view.setFocus()
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.search_box.clear()
                return True
        return super().eventFilter(watched, event)

    # ---- selection and actions --------------------------------------------------------------

    def _show_selected(self) -> None:
        row = selected_row(self.current_view())
        if isinstance(row, tuple):
            reg, person = row
            self._show_person(person.full_name, reg, birth=person.birth_display,
                              id_tail=_tail(person.id_number), phone_tail=_tail(person.phone)[-3:])
        elif isinstance(row, PersonHit):
            self._show_person(row.full_name, self._today_by_person.get(row.person_id),
                              birth=row.birth_display, id_tail=row.id_tail, phone_tail=row.phone_tail,
                              last=self.hits_model._last_dose(row))
        else:
            self._show_person(None, None)

    def _show_person(
        self, name: str | None, reg: RegistrationDTO | None, *, birth: str = "", id_tail: str = "",
        phone_tail: str = "", last: str = "",
    ) -> None:
        if name is None:
            self.person_name.setText(self.tr("Nobody selected"))
            self.person_facts.setText(self.tr("Search, pick from today's list, or scan a CCCD."))
            self.queue_caption.hide()
            self.queue_label.setText("")
            self.checkin_btn.setEnabled(False)
            return
        self.person_name.setText(name)
        facts = [self.tr("Born {birth}").format(birth=birth), self.tr("ID {tail}").format(tail=id_tail or "—")]
        if phone_tail:
            facts.append(self.tr("Phone …{tail}").format(tail=phone_tail.lstrip("…")))
        if last:
            facts.append(self.tr("Last dose: {text}").format(text=last))
        status = labels.tr(labels.STATUS, reg.status) if reg else self.tr("not on today's list")
        facts.append(self.tr("Today: {status}").format(status=status))
        self.person_facts.setText("\n".join(facts))
        has_queue = bool(reg and reg.queue_label)
        self.queue_caption.setVisible(has_queue)
        self.queue_label.setText(reg.queue_label if reg and reg.queue_label else "")
        self.checkin_btn.setEnabled(reg is None or reg.status == "expected")
        self.checkin_btn.setText(
            self.tr("Check in (Enter)") if reg is not None else self.tr("Add and check in (Enter)")
        )

    def primary_action(self) -> None:
        """Enter on a row: check the person in (adding them to today's list if needed)."""
        row = selected_row(self.current_view())
        if isinstance(row, tuple):
            reg, _person = row
            person_id = reg.person_id
        elif isinstance(row, PersonHit):
            person_id = row.person_id
            reg = self._today_by_person.get(person_id)
        else:
            return
        if reg is not None and reg.status != "expected":
            self.banner.show_message(messages.text_for("registration.already_checked_in"), "warning")
            return
        self._check_in(person_id, reg)

    def _check_in(self, person_id: str, reg: RegistrationDTO | None) -> None:
        st, actor = self.ctx.station, self.session.actor
        if reg is not None:
            reg_id = reg.id
            fn = lambda: people.check_in(st, actor, reg_id)  # noqa: E731
        else:
            fn = lambda: people.add_registration(st, actor, person_id, check_in=True)  # noqa: E731
        self.ctx.tasks.write(fn, owner=self, on_ok=self._checked_in, on_err=self.banner.show_error,
                             label="check-in")

    def _checked_in(self, reg: RegistrationDTO) -> None:
        self._today_by_person[reg.person_id] = reg
        self.queue_caption.show()
        self.queue_label.setText(reg.queue_label or "")
        self.checkin_btn.setEnabled(False)
        self.banner.show_message(
            self.tr("Checked in. Queue number {label}: please go to screening.").format(label=reg.queue_label), "ok"
        )
        self.sig_status.emit(self.tr("Checked in: {label}").format(label=reg.queue_label))
        self.search_box.blockSignals(True)
        self.search_box.clear()
        self.search_box.blockSignals(False)
        self._search_seq += 1
        self._select_after_refresh = reg.id  # keep showing this person and the number
        self._show_list()
        self.refresh_today()
        self.search_box.setFocus()

    # ---- walk-ins and scans ---------------------------------------------------------------

    def open_walk_in(self) -> None:
        """The walk-in form: empty, or with what was typed before it was closed (a draft)."""
        if self.form.has_input():
            self.form.banner.show_message(
                self.tr("What you typed before is back. To start again, close the form and "
                        "choose “Discard the input”."), "ok")
        else:
            self.form.reset()
        self.right.setCurrentIndex(1)
        self.form.full_name.setFocus()

    def form_open(self) -> bool:
        return self.right.currentIndex() == 1

    def close_walk_in(self) -> None:
        """Hide the form; its input stays as a draft (Ctrl+N brings it back)."""
        if self.right.currentIndex() == 1:
            self.right.setCurrentIndex(0)
            self.search_box.setFocus()
        self._update_walk_in_button()

    def _update_walk_in_button(self) -> None:
        self.walkin_btn.setText(self.tr("Continue the walk-in (Ctrl+N)") if self.form.has_input()
                                else self.tr("New walk-in (Ctrl+N)"))

    def _walk_in_registered(self, result: RegisterResult) -> None:  # RegistrationForm.sig_registered
        self.form.reset()  # saved: nothing left to bring back
        self.right.setCurrentIndex(0)
        self._update_walk_in_button()
        reg = result.registration
        p = result.person
        self._show_person(p.full_name, reg, birth=p.birth_display, id_tail=_tail(p.id_number),
                          phone_tail=_tail(p.phone)[-3:])
        if reg is not None:
            self._checked_in(reg)
        if result.warnings:
            self.banner.show_message(
                self.banner.text() + " " + " ".join(messages.issue_text(w) for w in result.warnings), "warning"
            )

    def _use_existing_person(self, person_id: str) -> None:
        self.form.reset()  # the person was already registered: the typed copy is not needed
        self.close_walk_in()
        self._check_in(person_id, self._today_by_person.get(person_id))

    def handle_scan(self, payload: str) -> bool:
        self.scan_input.clear()
        qr, issues = parse_cccd_qr(payload)
        if qr is None:
            self.banner.show_message(" ".join(messages.issue_text(i) for i in issues), "error")
            return True
        warnings = [i for i in issues if not i.is_error]
        st = self.ctx.station
        self.ctx.tasks.read(
            lambda: find_by_id_number(st, qr.id_number), owner=self,
            on_ok=lambda hit: self._scan_looked_up(qr, warnings, hit), on_err=self.banner.show_error,
            label="scan-lookup",
        )
        return True

    def handle_scan_refused(self, code: str) -> bool:
        self.scan_input.clear()
        self.banner.show_message(messages.text_for(code), "error")
        return True

    def _scan_looked_up(self, qr: CccdQr, warnings: list[FieldIssue], hit: PersonHit | None) -> None:
        if hit is not None:
            self.close_walk_in()
            self.search_box.blockSignals(True)
            self.search_box.setText(qr.id_number)
            self.search_box.blockSignals(False)
            self._search_seq += 1
            self.hits_model.set_rows([hit])
            self.lists.setCurrentWidget(self.hits_view)
            self._update_list_title()
            select_first(self.hits_view)
            self.hits_view.setFocus()
            self.banner.show_message(self.tr("Card scanned: this person is already registered."), "ok")
            return
        self.banner.clear_message()
        self.right.setCurrentIndex(1)
        self.form.prefill_from_qr(qr, warnings)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            if self.right.currentIndex() == 1:
                self.form.request_close()
            else:
                self.search_box.clear()
                self.search_box.setFocus()
            return
        super().keyPressEvent(event)
