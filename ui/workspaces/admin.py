"""Admin: users of the site, vaccine lots (received, expiry), the interval profile (the
province's own decisions on dose gaps), and the station's settings."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kernel import refdata
from kernel.errors import FieldIssue
from kernel.roles import ROLES, can
from station.dto import LotDTO, LotInput, UserDTO, UserInput
from station.services import admin, clinical
from ui import labels, messages, theme
from ui.context import AppContext, Session
from ui.models.table import Column, RowsModel
from ui.settings import IDLE_MAX, IDLE_MIN, UiSettings, check
from ui.widgets.common import Banner, FieldErrors, make_table, selected_row, wrap_popup
from ui.workspaces.base import Workspace
from ui.workspaces.site_hub_tab import SiteHubTab


class UsersModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("User name"), lambda u: u.username, bold=True),
                Column(self.tr("Name"), lambda u: u.display_name),
                Column(self.tr("Role"), lambda u: labels.tr(labels.ROLE, u.role)),
                Column(self.tr("Active"), lambda u: self.tr("yes") if u.active else self.tr("no"),
                       color=lambda u: None if u.active else "#b00020"),
            ],
            parent,
        )


class LotsModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("Vaccine"), lambda lot: labels.vaccine_short(lot.vaccine_code)),
                Column(self.tr("Lot"), lambda lot: lot.lot_number, bold=True),
                Column(self.tr("Expiry"), lambda lot: labels.site_date(lot.expiry)),
                Column(self.tr("Received"), lambda lot: labels.site_date(lot.received_on)),
                Column(self.tr("Doses received"), lambda lot: str(lot.doses_received)),
                Column(self.tr("Used"), lambda lot: labels.number(lot.doses_used)),
                Column(self.tr("Active"), lambda lot: self.tr("yes") if lot.active else self.tr("no")),
            ],
            parent,
        )


def _form(parent: QWidget, errors: FieldErrors, rows: list[tuple[str, str, QWidget]]) -> QGridLayout:
    grid = QGridLayout()
    for r, (field, text, widget) in enumerate(rows):
        label = QLabel(text, parent)
        label.setBuddy(widget)
        grid.addWidget(label, r, 0)
        cell = QVBoxLayout()
        cell.setSpacing(0)
        cell.addWidget(widget)
        cell.addWidget(errors.add(field, widget, parent))
        grid.addLayout(cell, r, 1)
    grid.setColumnStretch(1, 1)
    return grid


class EnterSaves(QWidget):
    """A form page where Enter saves, from any field that does not use Enter itself."""

    def __init__(self, save: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._save = save

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not isinstance(
            self.focusWidget(), QAbstractItemView
        ):
            self._save()
            return
        super().keyPressEvent(event)


class AdminWorkspace(Workspace):
    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(ctx, session, parent)
        title = QLabel(self.tr("Administration"), self)
        theme.set_role(title, "h1")
        self.banner = Banner(self)
        self.tabs = QTabWidget(self)
        if session.can("manage_staff"):
            self.tabs.addTab(self._users_tab(), self.tr("Users"))
        if session.can("manage_lots"):
            self.tabs.addTab(self._lots_tab(), self.tr("Vaccine lots"))
        self.site_hub_tab: SiteHubTab | None = None
        if session.can("settings") and ctx.site_hub is not None:
            self.site_hub_tab = SiteHubTab(ctx.site_hub, ctx.tasks, self.banner, ctx.restart_sync, self)
            self.tabs.addTab(self.site_hub_tab, self.tr("Site hub"))
        if session.can("settings"):
            self.tabs.addTab(self._settings_tab(), self.tr("Settings"))
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.banner)
        lay.addWidget(self.tabs, 1)

    def title(self) -> str:
        return self.tr("Admin")

    def shortcuts(self) -> list[tuple[str, str]]:
        return [
            (self.tr("Ctrl+Tab"), self.tr("Next tab (users, lots, site hub, settings)")),
            (self.tr("Enter"), self.tr("Save the form you are in")),
        ]

    def activate(self) -> None:
        self.refresh()
        self.tabs.setFocus()

    def refresh(self) -> None:
        st = self.ctx.station
        if self.site_hub_tab is not None:
            self.site_hub_tab.refresh()
        if self.session.can("manage_staff"):
            self.ctx.tasks.read(lambda: admin.list_users(st), owner=self,
                                on_ok=lambda rows: self.users_model.set_rows(rows),
                                on_err=self.banner.show_error, label="users")
        if self.session.can("manage_lots"):
            self.ctx.tasks.read(lambda: admin.list_lots(st, include_inactive=True), owner=self,
                                on_ok=lambda rows: self.lots_model.set_rows(rows),
                                on_err=self.banner.show_error, label="lots")
        if self.session.can("manage_lots") and self.session.can("set_interval_profile"):
            self.ctx.tasks.read(lambda: clinical.interval_profile(st), owner=self,
                                on_ok=lambda pid: self.profile.setCurrentIndex(self.profile.findData(pid)),
                                on_err=self.banner.show_error, label="interval-profile")

    def _write(self, fn: Callable[[], object], errors: FieldErrors, ok_text: str) -> None:
        def failed(exc: BaseException) -> None:
            by_field = messages.field_issues(exc)
            for field, issues in by_field.items():
                errors.set_issues(field, issues)
            self.banner.show_error(exc)

        def ok(_r: object) -> None:
            errors.clear()
            self.banner.show_message(ok_text, "ok")
            self.refresh()

        self.banner.clear_message()
        self.ctx.tasks.write(fn, owner=self, on_ok=ok, on_err=failed, label="admin")

    # ---- users -----------------------------------------------------------------------------

    def _users_tab(self) -> QWidget:
        page = QWidget(self)
        self.users_model = UsersModel(self)
        self.users_view = make_table(self.users_model, page)
        self.user_errors = FieldErrors(self)
        self.new_username = QLineEdit(page)
        self.new_display = QLineEdit(page)
        self.new_role = QComboBox(page)
        for role in ROLES:
            if role in ("admin", "supervisor") and not can(self.session.actor.role, "manage_admins"):
                continue
            self.new_role.addItem(labels.tr(labels.ROLE, role), role)
        self.new_password = QLineEdit(page)
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        add = QPushButton(self.tr("Create user"), page)
        add.clicked.connect(self._create_user)
        self.new_password.returnPressed.connect(self._create_user)
        toggle = QPushButton(self.tr("Activate / deactivate selected"), page)
        toggle.clicked.connect(self._toggle_user)
        form_title = QLabel(self.tr("New user"), page)
        theme.set_role(form_title, "h2")
        form = QVBoxLayout()
        form.addWidget(form_title)
        form.addLayout(_form(page, self.user_errors, [
            ("username", self.tr("User name"), self.new_username),
            ("display_name", self.tr("Full name"), self.new_display),
            ("role", self.tr("Role"), self.new_role),
            ("password", self.tr("Password"), self.new_password),
        ]))
        form.addWidget(add)
        form.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.users_view, 1)
        left.addWidget(toggle)
        lay = QHBoxLayout(page)
        lay.addLayout(left, 3)
        lay.addLayout(form, 2)
        return page

    def _create_user(self) -> None:
        st, actor = self.ctx.station, self.session.actor
        data = UserInput(self.new_username.text(), self.new_display.text(),
                         self.new_role.currentData(), self.new_password.text())
        self.new_password.clear()
        self._write(lambda: admin.create_user(st, actor, data), self.user_errors, self.tr("User created."))

    def _toggle_user(self) -> None:
        user = selected_row(self.users_view)
        if not isinstance(user, UserDTO):
            return
        st, actor = self.ctx.station, self.session.actor
        self._write(lambda: admin.set_user_active(st, actor, user.id, not user.active), self.user_errors,
                    self.tr("User updated."))

    # ---- lots ------------------------------------------------------------------------------

    def _lots_tab(self) -> QWidget:
        page = QWidget(self)
        self.lots_model = LotsModel(self)
        self.lots_view = make_table(self.lots_model, page)
        self.lot_errors = FieldErrors(self)
        self.lot_vaccine = QComboBox(page)
        for code, v in refdata.vaccines().items():
            # Moderna 6-11 is a half dose from Moderna vials: it has no lots of its own.
            if v.active and not v.lot_product:
                self.lot_vaccine.addItem(labels.vaccine_short(code), code)
        # Narrow in the form (the table beside it needs the width), full names in the list.
        self.lot_vaccine.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.lot_vaccine.setMinimumContentsLength(14)
        wrap_popup(self.lot_vaccine, 420)
        self.lot_number = QLineEdit(page)
        self.lot_expiry = QLineEdit(page)
        self.lot_expiry.setPlaceholderText(self.tr("dd/mm/yyyy"))
        self.lot_received = QLineEdit(page)
        self.lot_received.setPlaceholderText(self.tr("empty = today"))
        self.lot_doses = QLineEdit(page)
        add = QPushButton(self.tr("Add lot"), page)
        add.clicked.connect(self._add_lot)
        self.lot_doses.returnPressed.connect(self._add_lot)
        toggle = QPushButton(self.tr("Activate / deactivate selected"), page)
        toggle.clicked.connect(self._toggle_lot)
        form_title = QLabel(self.tr("Lot received"), page)
        theme.set_role(form_title, "h2")
        form = QVBoxLayout()
        form.addWidget(form_title)
        form.addLayout(_form(page, self.lot_errors, [
            ("vaccine_code", self.tr("Vaccine"), self.lot_vaccine),
            ("lot_number", self.tr("Lot number"), self.lot_number),
            ("expiry", self.tr("Expiry"), self.lot_expiry),
            ("received_on", self.tr("Received on"), self.lot_received),
            ("doses_received", self.tr("Doses received"), self.lot_doses),
        ]))
        form.addWidget(add)
        if self.session.can("set_interval_profile"):
            profile_title = QLabel(self.tr("Interval rules"), page)
            theme.set_role(profile_title, "h2")
            self.profile = QComboBox(page)
            for pid, prof in refdata.province_profiles().items():
                self.profile.addItem(prof.name_vi if labels.is_vietnamese() else prof.name_en, pid)
            self.profile.activated.connect(lambda _i: self._set_profile())
            hint = QLabel(self.tr(
                "A province's decision may shorten the gap between doses (Đồng Nai: AstraZeneca "
                "from 4 weeks). Set the same on every station of the site."), page)
            hint.setWordWrap(True)
            theme.set_role(hint, "muted")
            form.addWidget(profile_title)
            form.addWidget(self.profile)
            form.addWidget(hint)
        form.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.lots_view, 1)
        left.addWidget(toggle)
        lay = QHBoxLayout(page)
        lay.addLayout(left, 2)  # seven columns: the table takes most of the width
        lay.addLayout(form, 1)
        return page

    def _add_lot(self) -> None:
        st, actor = self.ctx.station, self.session.actor
        data = LotInput(self.lot_vaccine.currentData(), self.lot_number.text(), self.lot_expiry.text(),
                        self.lot_doses.text(), self.lot_received.text() or None)
        self._write(lambda: admin.upsert_lot(st, actor, data), self.lot_errors, self.tr("Lot saved."))

    def _set_profile(self) -> None:
        st, actor, pid = self.ctx.station, self.session.actor, str(self.profile.currentData())
        self._write(lambda: clinical.set_interval_profile(st, actor, pid), self.lot_errors,
                    self.tr("Interval rules saved."))

    def _toggle_lot(self) -> None:
        lot = selected_row(self.lots_view)
        if not isinstance(lot, LotDTO):
            return
        st, actor = self.ctx.station, self.session.actor
        data = LotInput(lot.vaccine_code, lot.lot_number, lot.expiry, lot.doses_received, lot.received_on,
                        active=not lot.active, id=lot.id)
        self._write(lambda: admin.upsert_lot(st, actor, data), self.lot_errors, self.tr("Lot saved."))

    # ---- settings ----------------------------------------------------------------------------

    def _settings_tab(self) -> QWidget:
        page = EnterSaves(self.save_settings, self)
        s = self.ctx.settings
        self.settings_errors = FieldErrors(self)
        self.language = QComboBox(page)
        self.language.addItem("Tiếng Việt", "vi")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(self.language.findData(s.language))
        self.idle = QSpinBox(page)
        self.idle.setRange(IDLE_MIN, IDLE_MAX)
        self.idle.setValue(s.idle_lock_minutes)
        self.idle.setSuffix(" " + self.tr("min"))
        # An enrolled station syncs with the hub it enrolled with: show that address.
        self.hub = QLineEdit(s.hub_url or self.ctx.enrolled_hub_url, page)
        self.hub.setPlaceholderText("https://hub.example.vn")
        save = QPushButton(self.tr("Save settings (Enter)"), page)
        save.setProperty("role", "primary")
        save.clicked.connect(self.save_settings)
        note = QLabel(self.tr("A new language applies at once; the hub address is used by the next sync."), page)
        note.setWordWrap(True)
        theme.set_role(note, "muted")
        lay = QVBoxLayout(page)
        lay.addLayout(_form(page, self.settings_errors, [
            ("language", self.tr("Language"), self.language),
            ("idle_lock_minutes", self.tr("Lock after no use for"), self.idle),
            ("hub_url", self.tr("Hub address"), self.hub),
        ]))
        lay.addWidget(note)
        lay.addWidget(save)
        lay.addStretch(1)
        return page

    def save_settings(self) -> None:
        values = UiSettings(language=str(self.language.currentData()), idle_lock_minutes=self.idle.value(),
                            hub_url=self.hub.text().strip())
        errors = check(values)
        self.settings_errors.clear()
        if errors:
            for field, code in errors.items():
                self.settings_errors.set_issues(field, [FieldIssue(field, code)])
            return
        self.ctx.save_settings(values)
        self.banner.show_message(self.tr("Settings saved."), "ok")
