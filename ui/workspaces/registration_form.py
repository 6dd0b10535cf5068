"""Walk-in registration: live validation per field, address pickers, duplicate check.

Every field is checked with the core's own rule functions as soon as it is
left (and again while an error is shown, so the red text disappears the
moment the value is fixed). The text typed is never cleared by a failed
save: errors are shown next to the fields and the focus goes to the first one.
Before saving, people with the same ID, or the same folded name and birth
date, are offered so a returning person is not registered twice.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kernel import refdata
from kernel.errors import FieldIssue, ValidationError
from kernel.rules import vietnam as vn
from kernel.rules.vietnam import CccdQr
from station.dto import DuplicateCandidate, PersonInput, RegisterResult
from station.search import find_duplicates
from station.services import people
from station.services.common import check_priority_group, check_text
from ui import labels, messages, theme
from ui.context import AppContext, Session
from ui.dialogs.discard import DISCARD, CloseFormDialog
from ui.widgets.common import Banner, CodePicker, FieldErrors, wrap_popup

FIELD_ORDER = (
    "full_name", "birth", "sex", "id_type", "id_number", "phone", "priority_group",
    "province_code", "ward_code", "address_line",
)


class RegistrationForm(QWidget):
    sig_registered = Signal(object)  # RegisterResult
    sig_use_existing = Signal(str)  # person id
    sig_cancelled = Signal()  # closed; what was typed stays in the form (a draft) unless discarded

    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session = session
        self._busy = False
        self._dups_checked_for: PersonInput | None = None
        self.errors = FieldErrors(self)

        title = QLabel(self.tr("New walk-in registration"), self)
        theme.set_role(title, "h1")
        self.banner = Banner(self)

        self.full_name = QLineEdit(self)
        self.full_name.setPlaceholderText(self.tr("As on the ID card"))
        self.birth = QLineEdit(self)
        self.birth.setPlaceholderText(self.tr("dd/mm/yyyy or year"))
        self.sex = QComboBox(self)
        self.sex.addItem(labels.tr(labels.SEX, "M"), "M")
        self.sex.addItem(labels.tr(labels.SEX, "F"), "F")
        self.sex.setCurrentIndex(-1)
        self.sex.setPlaceholderText(self.tr("Choose"))
        self.id_type = QComboBox(self)
        for code in ("cccd", "cmnd", "passport", "none"):
            self.id_type.addItem(labels.tr(labels.ID_TYPE, code), code)
        self.id_number = QLineEdit(self)
        self.old_id_number = ""  # from a QR; not shown (rarely useful at the desk)
        self.phone = QLineEdit(self)
        self.phone.setPlaceholderText(self.tr("10 digits, e.g. 0912345678"))
        self.phone.setMaxLength(20)
        self.priority_group = QComboBox(self)
        self.priority_group.setPlaceholderText(self.tr("Type the group number"))
        for group in sorted(refdata.priority_groups()):
            self.priority_group.addItem(f"{group} – {labels.group_name(group)}", group)
        self.priority_group.setCurrentIndex(-1)
        self.priority_group.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.priority_group.setMinimumContentsLength(18)
        # The official group names are long: the list opens wide and wraps them (never cut).
        wrap_popup(self.priority_group, 760)
        self.province = CodePicker(self)
        self.province.edit().setPlaceholderText(self.tr("Type to search"))
        self.province.set_items((p.code, p.name) for p in refdata.provinces().values())
        self.ward = CodePicker(self)
        self.ward.edit().setPlaceholderText(self.tr("Choose the province first"))
        self.address_line = QLineEdit(self)
        self.address_line.setPlaceholderText(self.tr("House number, street, hamlet"))
        self.consent = QCheckBox(
            self.tr("The person was told how their data is used and agrees"), self
        )

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        rows: list[list[tuple[str, str, QWidget]]] = [
            [("full_name", self.tr("Full name"), self.full_name)],
            [("birth", self.tr("Date of birth"), self.birth), ("sex", self.tr("Sex"), self.sex)],
            [("id_type", self.tr("Document"), self.id_type), ("id_number", self.tr("ID number"), self.id_number)],
            [("phone", self.tr("Mobile phone"), self.phone),
             ("priority_group", self.tr("Priority group"), self.priority_group)],
            [("province_code", self.tr("Province"), self.province), ("ward_code", self.tr("Ward / commune"), self.ward)],
            [("address_line", self.tr("Address"), self.address_line)],
        ]
        for r, row in enumerate(rows):
            for c, (name, text, widget) in enumerate(row):
                label = QLabel(text, self)
                label.setBuddy(widget)
                cell = QVBoxLayout()
                cell.setSpacing(0)
                cell.addWidget(widget)
                cell.addWidget(self.errors.add(name, widget, self))
                cell.addStretch(1)  # keep inputs level when a neighbour shows an error
                grid.addWidget(label, r, c * 2, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
                span = 3 if len(row) == 1 else 1
                grid.addLayout(cell, r, c * 2 + 1, 1, span)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)

        self.dup_title = QLabel(self.tr("Already registered? Choose the person (Enter), or save as new:"), self)
        theme.set_role(self.dup_title, "banner-warning")
        self.dup_title.setWordWrap(True)
        self.dup_list = QListWidget(self)
        self.dup_list.setMaximumHeight(110)
        self.dup_list.itemActivated.connect(self._use_existing)
        self.dup_title.hide()
        self.dup_list.hide()

        self.save_btn = QPushButton(self.tr("Save and check in (Enter)"), self)
        self.save_btn.setProperty("role", "primary")
        self.save_btn.clicked.connect(self.submit)
        self.save_new_btn = QPushButton(self.tr("Save as a new person (Ctrl+S)"), self)
        self.save_new_btn.clicked.connect(lambda: self.submit(force_new=True))
        self.save_new_btn.hide()
        self.cancel_btn = QPushButton(self.tr("Close (Esc)"), self)
        self.cancel_btn.clicked.connect(self.request_close)
        self.close_dialog: CloseFormDialog | None = None
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_btn)
        buttons.addWidget(self.save_new_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_btn)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(title)
        lay.addWidget(self.banner)
        lay.addLayout(grid)
        lay.addWidget(self.consent)
        lay.addWidget(self.dup_title)
        lay.addWidget(self.dup_list)
        lay.addLayout(buttons)
        lay.addStretch(1)

        # Tab order follows the desk's conversation: phone and group right after the ID.
        order: list[QWidget] = [
            self.full_name, self.birth, self.sex, self.id_type, self.id_number, self.phone,
            self.priority_group, self.province, self.ward, self.address_line, self.consent,
            self.save_btn, self.cancel_btn,
        ]
        for a, b in itertools.pairwise(order):
            QWidget.setTabOrder(a, b)

        self._wire_live_validation()
        self.province.currentTextChanged.connect(self._province_changed)

    # ---- live validation -----------------------------------------------------------------

    def _wire_live_validation(self) -> None:
        edits: dict[str, QLineEdit] = {
            "full_name": self.full_name, "birth": self.birth, "id_number": self.id_number,
            "phone": self.phone, "address_line": self.address_line,
        }
        for name, edit in edits.items():
            edit.editingFinished.connect(lambda n=name: self.validate_field(n))
            edit.textEdited.connect(lambda _t, n=name: self._revalidate_if_shown(n))
        self.sex.currentIndexChanged.connect(lambda _i: self.validate_field("sex"))
        self.id_type.currentIndexChanged.connect(lambda _i: self.validate_field("id_number"))
        self.priority_group.currentIndexChanged.connect(lambda _i: self.validate_field("priority_group"))
        self.province.edit().editingFinished.connect(lambda: self.validate_field("province_code"))
        self.ward.edit().editingFinished.connect(lambda: self.validate_field("ward_code"))

    def _revalidate_if_shown(self, name: str) -> None:
        if self.errors.text(name):
            self.validate_field(name)

    def _birth(self) -> vn.PartialDate | None:
        value, _ = vn.parse_date(
            self.birth.text(), field="birth", today=self.ctx.station.today(),
            allow_year_only=True, min_year=1900,
        )
        return value

    def field_issues(self, name: str) -> list[FieldIssue]:
        """The core's checks for one field, on what is typed now (pure functions, no I/O)."""
        today = self.ctx.station.today()
        if name == "full_name":
            return vn.check_full_name(self.full_name.text())[1]
        if name == "birth":
            return vn.parse_date(
                self.birth.text(), field="birth", today=today, allow_year_only=True, min_year=1900
            )[1]
        if name == "sex":
            code = self.sex.currentData()
            return vn.check_sex(code)[1] if code else [FieldIssue("sex", "sex.required")]
        if name == "id_number":
            kind = str(self.id_type.currentData() or "cccd")
            return vn.check_id_number(
                kind, self.id_number.text(), birth=self._birth(), sex=self.sex.currentData()
            )[1]
        if name == "phone":
            return vn.check_phone(self.phone.text(), required=True)[1]
        if name == "priority_group":
            return check_priority_group(self.priority_group.currentData(), required=True)[1]
        if name == "province_code":
            text = self.province.currentText().strip()
            return [FieldIssue(name, "province_code.unknown")] if text and self.province.code() is None else []
        if name == "ward_code":
            text = self.ward.currentText().strip()
            return [FieldIssue(name, "ward_code.unknown")] if text and self.ward.code() is None else []
        if name == "address_line":
            return check_text(self.address_line.text(), field="address_line", max_len=200)[1]
        return []

    def validate_field(self, name: str) -> list[FieldIssue]:
        issues = self.field_issues(name)
        if name == "phone" and any(i.code == "phone.legacy_converted" for i in issues):
            # An old 11-digit number: the box gets the new 10-digit one the message announces.
            converted, _ = vn.check_phone(self.phone.text(), required=True)
            if converted:
                self.phone.setText(converted)
        self.errors.set_issues(name, issues)
        return issues

    def validate_all(self) -> bool:
        first_bad: QWidget | None = None
        for name in FIELD_ORDER:
            issues = self.validate_field(name)
            if any(i.is_error for i in issues) and first_bad is None:
                first_bad = self.errors.input(name)
        if first_bad is not None:
            first_bad.setFocus()
            return False
        return True

    def _province_changed(self, _text: str) -> None:
        code = self.province.code()
        current_ward = self.ward.code()
        self.ward.set_items((w.code, w.name) for w in refdata.wards(code)) if code else self.ward.set_items([])
        self.ward.edit().setPlaceholderText(
            self.tr("Type to search") if code else self.tr("Choose the province first")
        )
        if current_ward:
            self.ward.set_code(current_ward)

    # ---- content ----------------------------------------------------------------------------

    def reset(self) -> None:
        for edit in (self.full_name, self.birth, self.id_number, self.phone, self.address_line):
            edit.clear()
        self.old_id_number = ""
        self.sex.setCurrentIndex(-1)
        self.id_type.setCurrentIndex(0)
        self.priority_group.setCurrentIndex(-1)
        self.province.set_code(None)
        self.ward.set_items([])
        self.consent.setChecked(False)
        self.errors.clear()
        self.banner.clear_message()
        self._hide_duplicates()
        self.full_name.setFocus()

    def prefill_from_qr(self, qr: CccdQr, warnings: list[FieldIssue]) -> None:
        """Everything the card says; the clerk then types only the phone and the group."""
        self.reset()
        self.full_name.setText(qr.full_name)
        self.birth.setText(qr.birth.display())
        self.sex.setCurrentIndex(self.sex.findData(qr.sex))
        self.id_type.setCurrentIndex(self.id_type.findData("cccd"))
        self.id_number.setText(qr.id_number)
        self.old_id_number = qr.old_id_number or ""
        # The card prints the pre-2025 address: kept as text, units are picked if needed.
        self.address_line.setText(qr.address[:200])
        for name in ("full_name", "birth", "sex", "id_number"):
            self.validate_field(name)
        if warnings:
            self.banner.show_message(" ".join(messages.issue_text(w) for w in warnings), "warning")
        self.phone.setFocus()

    def person_input(self) -> PersonInput:
        kind = str(self.id_type.currentData() or "cccd")
        return PersonInput(
            full_name=self.full_name.text(),
            birth=self.birth.text(),
            sex=self.sex.currentData(),
            id_type=kind,
            id_number=self.id_number.text() if kind != "none" else None,
            old_id_number=self.old_id_number or None,
            phone=self.phone.text(),
            province_code=self.province.code(),
            ward_code=self.ward.code(),
            address_line=self.address_line.text() or None,
            priority_group=self.priority_group.currentData(),
            consent=self.consent.isChecked(),
        )

    def has_input(self) -> bool:
        """Anything typed or chosen (what closing would otherwise throw away)."""
        texts = (self.full_name, self.birth, self.id_number, self.phone, self.address_line,
                 self.province.edit(), self.ward.edit())
        return (any(w.text().strip() for w in texts) or self.sex.currentIndex() >= 0
                or self.priority_group.currentIndex() >= 0 or self.consent.isChecked())

    def request_close(self) -> None:
        """Esc / Close: an empty form closes; one with input asks (keep editing is the default)."""
        if self.close_dialog is not None:
            return
        if not self.has_input():
            self.sig_cancelled.emit()
            return
        dialog = CloseFormDialog(
            self.tr("Close the registration form?"),
            self.tr("What you typed is kept: “New walk-in (Ctrl+N)” brings it back. "
                    "Discard it only if this person will not be registered."), self)
        self.close_dialog = dialog

        def done(code: int) -> None:
            self.close_dialog = None
            dialog.deleteLater()
            if code == CloseFormDialog.DialogCode.Accepted:
                if dialog.choice == DISCARD:
                    self.reset()
                self.sig_cancelled.emit()
            else:
                self.activateWindow()
                (self.focusWidget() or self.full_name).setFocus()

        dialog.finished.connect(done)
        dialog.open()

    # ---- saving -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not self.isVisible():
                return  # an Enter that already closed the form (choosing a duplicate)
            if self.dup_list.hasFocus():
                return  # the list's own activation (itemActivated) already chose
            if self.cancel_btn.hasFocus():
                self.request_close()
                return
            self.submit()
            return
        if key == Qt.Key.Key_Escape:
            self.request_close()
            return
        if key == Qt.Key.Key_S and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submit(force_new=True)
            return
        super().keyPressEvent(event)

    def submit(self, force_new: bool = False) -> None:
        if self._busy:
            return
        self.banner.clear_message()
        if not self.validate_all():
            return
        data = self.person_input()
        if force_new or self._dups_checked_for == data:
            self._register(data)
            return
        self._busy = True
        st = self.ctx.station
        self.ctx.tasks.read(
            lambda: find_duplicates(st, data), owner=self,
            on_ok=lambda c: self._duplicates_found(data, c), on_err=self._failed, label="duplicates",
        )

    def _duplicates_found(self, data: PersonInput, candidates: list[DuplicateCandidate]) -> None:
        self._busy = False
        self._dups_checked_for = data
        if not candidates:
            self._register(data)
            return
        self.dup_list.clear()
        reason_text = {
            "same_id": self.tr("same ID number"),
            "same_name_birth_phone": self.tr("same name, birth date and phone"),
            "same_name_birth": self.tr("same name and birth date"),
        }
        for cand in candidates:
            h = cand.hit
            text = f"{h.full_name} · {h.birth_display} · {h.id_tail or '—'} · {reason_text.get(cand.reason, cand.reason)}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, cand.person_id)
            self.dup_list.addItem(item)
        self.dup_title.show()
        self.dup_list.show()
        self.save_new_btn.show()
        self.dup_list.setCurrentRow(0)
        self.dup_list.setFocus()

    def _hide_duplicates(self) -> None:
        self._dups_checked_for = None
        self.dup_list.clear()
        self.dup_title.hide()
        self.dup_list.hide()
        self.save_new_btn.hide()

    def _use_existing(self, item: QListWidgetItem) -> None:
        person_id = str(item.data(Qt.ItemDataRole.UserRole))
        self._hide_duplicates()
        self.sig_use_existing.emit(person_id)

    def _register(self, data: PersonInput) -> None:
        self._busy = True
        st, actor = self.ctx.station, self.session.actor
        self.ctx.tasks.write(
            lambda: people.register_walk_in(st, actor, data, check_in=True), owner=self,
            on_ok=self._registered, on_err=self._failed, label="register",
        )

    def _registered(self, result: RegisterResult) -> None:
        self._busy = False
        self._hide_duplicates()
        self.sig_registered.emit(result)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, ValidationError):
            by_field = messages.field_issues(exc)
            first: QWidget | None = None
            for name, issues in by_field.items():
                self.errors.set_issues(name, issues)
                if first is None:
                    first = self.errors.input(name)
            if first is not None:
                first.setFocus()
            unplaced = [i for f, iss in by_field.items() if f not in self.errors.fields() for i in iss]
            if unplaced:
                self.banner.show_error(ValidationError(unplaced))
            return
        self.banner.show_error(exc)
