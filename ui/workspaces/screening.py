"""Screening: the queue of checked-in people and the versioned pre-vaccination form.

The form is chosen per person by today's date and their age (an adult form, the
12-17 or the 5-11 children's checklist, which also records a parent or guardian);
pregnancy questions are not asked of a man. The suggested outcome is recomputed on
every change with the core's pure rule (``kernel.rules.screening.explain``) and
the panel under it says *why*: which answer or vital sign, and which outcome wins
when they disagree. The doctor's outcome follows the suggestion until the doctor
picks another one, which then needs a reason.
"""

from __future__ import annotations

import itertools
import math

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kernel import refdata
from kernel.errors import FieldIssue
from kernel.rules import schedule
from kernel.rules import screening as rules
from station.dto import PersonDTO, RegistrationDTO, ScreeningDTO
from station.services import clinical, people
from ui import labels, messages, theme
from ui.context import AppContext, Session
from ui.models.table import Column, RowsModel
from ui.widgets.common import Banner, FieldErrors, make_table, select_first, selected_row, shortcut
from ui.workspaces.base import Workspace

OUTCOME_COLOURS = {"eligible": "#0b6e2e", "caution": "#7a4a00", "defer": "#b00020",
                   "hospital": "#b00020", "contraindicated": "#b00020"}


def _clear_layout(layout: QLayout) -> None:
    """Delete every widget of a nested layout (the form is rebuilt per person)."""
    while layout.count():
        entry = layout.takeAt(0)
        if entry is None:
            continue
        if (widget := entry.widget()) is not None:
            # Hidden now: deleteLater runs only when the event loop comes round again.
            widget.hide()
            widget.deleteLater()
        elif (inner := entry.layout()) is not None:
            _clear_layout(inner)


class _ClickLabel(QLabel):
    """A question's text: wraps, and a click ticks its box (as a check box's own text does)."""

    def __init__(self, text: str, box: QCheckBox, parent: QWidget) -> None:
        super().__init__(text, parent)
        self._box = box
        self.setWordWrap(True)
        self.setBuddy(box)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._box.isEnabled():
            self._box.toggle()
        super().mouseReleaseEvent(event)


class QueueModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(self.tr("No."), lambda r: r[0].queue_label or "", bold=True),
                Column(self.tr("Full name"), lambda r: r[1].full_name),
                Column(self.tr("Born"), lambda r: r[1].birth_display),
                Column(self.tr("Arrived"), lambda r: labels.site_time(r[0].checked_in_at)),
            ],
            parent,
        )


class ScreeningWorkspace(Workspace):
    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(ctx, session, parent)
        self.form = refdata.default_screening_form()
        self._outcome_touched = False
        self._busy = False
        self.errors = FieldErrors(self)

        title = QLabel(self.tr("Screening"), self)
        theme.set_role(title, "h1")
        self.banner = Banner(self)
        self.queue_model = QueueModel(self)
        self.queue_view = make_table(self.queue_model, self, stretch_column=1)
        self.queue_view.selectionModel().selectionChanged.connect(lambda *_a: self._selected())
        self.queue_view.activated.connect(lambda _i: self._start_form())
        self.queue_title = QLabel(self)
        theme.set_role(self.queue_title, "h2")

        self.person = QLabel(self.tr("Choose a person from the queue"), self)
        theme.set_role(self.person, "h2")
        self.person.setWordWrap(True)
        form_title = self.form.title_vi if labels.is_vietnamese() else self.form.title_en
        self.form_title = QLabel(form_title, self)
        self.form_title.setWordWrap(True)
        theme.set_role(self.form_title, "muted")

        self.form_errors = FieldErrors(self)
        self.item_boxes: dict[str, QCheckBox] = {}
        self.details: dict[str, QLineEdit] = {}
        self.vitals: dict[str, QLineEdit] = {}
        self.items_box = QGroupBox(self.tr("Questions (tick = yes)"), self)
        self.items_layout = QVBoxLayout(self.items_box)
        self.items_layout.setSpacing(3)
        self.items_layout.setContentsMargins(6, 4, 6, 4)
        self.guardian_box = QGroupBox(self.tr("Parent or guardian (children's checklist)"), self)
        gl = QGridLayout(self.guardian_box)
        self.guardian_name = QLineEdit(self.guardian_box)
        self.guardian_phone = QLineEdit(self.guardian_box)
        self.guardian_phone.setMaxLength(20)
        for row, (label_text, edit, field) in enumerate(
            ((self.tr("Full name"), self.guardian_name, "guardian_name"),
             (self.tr("Phone"), self.guardian_phone, "guardian_phone"))
        ):
            label = QLabel(label_text, self.guardian_box)
            label.setBuddy(edit)
            cell = QVBoxLayout()
            cell.addWidget(edit)
            cell.addWidget(self.errors.add(field, edit, self.guardian_box))
            gl.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
            gl.addLayout(cell, row, 1)
        gl.setColumnStretch(1, 1)
        self.vitals_box = QGroupBox(self.tr("Vital signs (leave empty if not measured)"), self)
        self.vitals_grid = QGridLayout(self.vitals_box)

        self.suggested = QLabel(self)
        theme.set_role(self.suggested, "outcome")
        # "Chỉ định tiêm tại cơ sở y tế có đủ điều kiện cấp cứu phản vệ" needs two lines
        # beside the queue at 1366×768.
        self.suggested.setWordWrap(True)
        # Why the suggestion: which answers and vital signs, and which outcome wins.
        self.why = QLabel(self)
        self.why.setWordWrap(True)
        self.why.setTextFormat(Qt.TextFormat.PlainText)
        theme.set_role(self.why, "muted")
        self.outcome = QComboBox(self)
        for code in refdata.screening_outcomes():
            self.outcome.addItem(labels.outcome_name(code), code)
        self.outcome.activated.connect(self._outcome_chosen)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText(self.tr("Reason for a different outcome (required)"))
        self.reason.setEnabled(False)
        self.save_btn = QPushButton(self.tr("Save screening (Ctrl+Enter)"), self)
        self.save_btn.setProperty("role", "primary")
        self.save_btn.clicked.connect(self.save)

        decision = QGridLayout()
        decision.addWidget(QLabel(self.tr("Suggested"), self), 0, 0)
        decision.addWidget(self.suggested, 0, 1)
        decision.addWidget(QLabel(self.tr("Why"), self), 1, 0, Qt.AlignmentFlag.AlignTop)
        decision.addWidget(self.why, 1, 1)
        decision.addWidget(QLabel(self.tr("Doctor's decision"), self), 2, 0)
        decision.addWidget(self.outcome, 2, 1)
        decision.addWidget(QLabel(self.tr("Reason"), self), 3, 0)
        rcell = QVBoxLayout()
        rcell.addWidget(self.reason)
        rcell.addWidget(self.errors.add("override_reason", self.reason, self))
        decision.addLayout(rcell, 3, 1)
        decision.setColumnStretch(1, 1)

        form_page = QWidget(self)
        fl = QVBoxLayout(form_page)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.addWidget(self.person)
        fl.addWidget(self.form_title)
        fl.addWidget(self.guardian_box)
        # Vital signs first: measured first at the desk, and Enter from the queue lands
        # there; short (one row), so the questions below scroll when a form is long.
        fl.addWidget(self.vitals_box)
        fl.addWidget(self.items_box)
        fl.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_page)
        # The decision and Save stay in view whatever the form's length.
        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(scroll, 1)
        rl.addLayout(decision)
        rl.addWidget(self.save_btn)
        self.form_area = right

        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.queue_title)
        ll.addWidget(self.queue_view, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setSizes([455, 700])  # the queue shows number, name, birth and arrival in full
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.banner)
        lay.addWidget(split, 1)

        for seq in ("Ctrl+Return", "Ctrl+Enter", "Ctrl+S"):
            shortcut(seq, self, self.save, local=True)
        shortcut("Ctrl+T", self, self._start_form, local=True)
        self._sex: str | None = None
        self._built: tuple[str, tuple[str, ...]] | None = None  # (form, questions asked)
        self._build_form(self.form, None)
        self._set_form_enabled(False)
        self._recompute()

    def _unit(self, unit: str) -> str:
        # "°C" and "mmHg" read the same in both languages; a rate per minute does not.
        return self.tr("/min") if unit == "/min" else unit

    def _build_form(self, form: refdata.ScreeningForm, sex: str | None) -> None:
        """(Re)build the questions and vital signs of ``form`` for a person of ``sex``.

        Only when they change: most people in a row get the same form, and the widgets
        (and the focus in them) stay as they are.
        """
        asked = tuple(item.id for item in rules.applicable_items(form, sex))
        if self._built == (form.id, asked):
            self._sex = sex
            return
        self._built = (form.id, asked)
        self.form = form
        self._sex = sex
        vi = labels.is_vietnamese()
        self.form_title.setText(form.title_vi if vi else form.title_en)
        self.form_errors.deleteLater()
        self.form_errors = FieldErrors(self)
        for layout in (self.items_layout, self.vitals_grid):
            _clear_layout(layout)
        self._build_items(form, sex, vi)
        self._build_vitals(form)
        self._set_tab_order(form)

    def _build_items(self, form: refdata.ScreeningForm, sex: str | None, vi: bool) -> None:
        """The questions asked of this person: a check box, its text, a detail box where needed."""
        self.item_boxes = {}
        self.details = {}
        for item in rules.applicable_items(form, sex):
            text = item.text_vi if vi else item.text_en
            # The question wraps in a label beside the box: long items must not be cut.
            row_widget = QWidget(self.items_box)
            hl = QHBoxLayout(row_widget)
            hl.setContentsMargins(0, 0, 0, 0)
            box = QCheckBox(f"{item.id}.", row_widget)
            box.setAccessibleName(f"{item.id}. {text}")
            box.toggled.connect(self._recompute)
            label = _ClickLabel(text, box, row_widget)
            hl.addWidget(box, 0, Qt.AlignmentFlag.AlignTop)
            hl.addWidget(label, 1)
            self.item_boxes[item.id] = box
            self.items_layout.addWidget(row_widget)
            row_widget.show()  # now, not at the next turn of the event loop
            if item.needs_detail:
                detail = QLineEdit(self.items_box)
                hint = item.detail_vi if vi else item.detail_en
                detail.setPlaceholderText(hint or self.tr("Details"))
                detail.setEnabled(False)
                box.toggled.connect(detail.setEnabled)
                self.details[item.id] = detail
                self.items_layout.addWidget(detail)
                detail.show()

    def _build_vitals(self, form: refdata.ScreeningForm) -> None:
        """The vital signs' fields, each with its label, unit and error line."""
        self.vitals = {}
        # Three vital signs to a row, each label above its field: the five fit the pane
        # beside the queue at 1366×768 (one row of five does not, in Vietnamese).
        per_row = 3
        for i, rule in enumerate(form.vitals):
            edit = QLineEdit(self.vitals_box)
            edit.setMinimumWidth(64)
            edit.setMaximumWidth(80)
            edit.textChanged.connect(self._recompute)
            self.vitals[rule.name] = edit
            field = f"vitals.{rule.name}"
            row = QHBoxLayout()
            row.addWidget(edit)
            row.addWidget(QLabel(self._unit(rule.unit), self.vitals_box))
            row.addStretch(1)
            name_label = QLabel(self._vital_label(rule.name), self.vitals_box)
            name_label.setBuddy(edit)
            r, c = (i // per_row) * 3, i % per_row
            self.vitals_grid.addWidget(name_label, r, c)
            self.vitals_grid.addLayout(row, r + 1, c)
            self.vitals_grid.addWidget(self.form_errors.add(field, edit, self.vitals_box), r + 2, c)
            for w in (name_label, edit):
                w.show()
        for c in range(per_row + 1):  # fields stay left; the space after the last column is empty
            self.vitals_grid.setColumnStretch(c, 1 if c == per_row else 0)

    def _set_tab_order(self, form: refdata.ScreeningForm) -> None:
        """The guardian's fields (a child's form) and the tab order over the new widgets."""
        self.guardian_box.setVisible(form.guardian)
        # Tab follows the page: guardian, vital signs, the questions (with their detail
        # boxes), the decision. Rebuilt with the form: the widgets are new.
        order: list[QWidget] = ([self.guardian_name, self.guardian_phone] if form.guardian else [])
        order += list(self.vitals.values())
        for item_id, box in self.item_boxes.items():
            order.append(box)
            if item_id in self.details:
                order.append(self.details[item_id])
        order += [self.outcome, self.reason, self.save_btn]
        for a, b in itertools.pairwise(order):
            QWidget.setTabOrder(a, b)

    def _vital_label(self, name: str) -> str:
        texts = {
            "temperature": self.tr("Temperature"),
            "pulse": self.tr("Pulse"),
            "bp_systolic": self.tr("Blood pressure, systolic"),
            "bp_diastolic": self.tr("Blood pressure, diastolic"),
            "respiratory_rate": self.tr("Breathing rate"),
        }
        return texts.get(name, name)

    # ---- workspace API -----------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Screening")

    def shortcuts(self) -> list[tuple[str, str]]:
        return [
            (self.tr("↑ ↓ then Enter"), self.tr("Choose the next person and start the form")),
            (self.tr("Ctrl+T"), self.tr("To the temperature (the first vital sign)")),
            (self.tr("Space"), self.tr("Tick / untick a question")),
            (self.tr("Ctrl+Enter"), self.tr("Save the screening")),
        ]

    def activate(self) -> None:
        self.refresh()
        self.queue_view.setFocus()

    def refresh(self) -> None:
        st = self.ctx.station
        self.ctx.tasks.read(
            lambda: people.registrations_for_day(st, status="checked_in"), owner=self,
            on_ok=self._loaded, on_err=self.banner.show_error, label="screening-queue",
        )

    def _loaded(self, rows: list[tuple[RegistrationDTO, PersonDTO]]) -> None:
        current = selected_row(self.queue_view)
        self.queue_model.set_rows(rows)
        self.queue_title.setText(self.tr("Waiting for screening: %n", "", len(rows)))
        if isinstance(current, tuple):
            for r, row in enumerate(rows):
                if row[0].id == current[0].id:
                    self.queue_view.selectRow(r)
                    return
        if not select_first(self.queue_view):
            self._selected()

    # ---- form -------------------------------------------------------------------------

    def _set_form_enabled(self, on: bool) -> None:
        self.form_area.setEnabled(on)

    def _selected(self) -> None:
        row = selected_row(self.queue_view)
        if not isinstance(row, tuple):
            self.person.setText(self.tr("Choose a person from the queue"))
            self._reset_form()
            # No person, no outcome: an empty form must not read "eligible".
            self.suggested.setText("—")
            self.suggested.setStyleSheet("")
            self._set_form_enabled(False)
            return
        reg, person = row
        assert isinstance(reg, RegistrationDTO) and isinstance(person, PersonDTO)
        sex = labels.tr(labels.SEX, person.sex)
        today = self.ctx.station.today()
        ages = schedule.age_range(person.birth, today)
        age_text = ""
        if ages is not None:
            age_text = (self.tr("%n years", "", ages[1]) if ages[0] == ages[1]
                        else self.tr("{a}–{b} years").format(a=ages[0], b=ages[1]))
        self.person.setText(" · ".join(p for p in (
            f"{reg.queue_label or ''}  {person.full_name}", person.birth_display, age_text, sex) if p))
        form = refdata.screening_form_for(
            today.isoformat(), ages[0] if ages else None, ages[1] if ages else None)
        if form is None:
            self._build_form(self.form, person.sex)
            self._reset_form()
            self.suggested.setText("—")
            self.suggested.setStyleSheet("")
            self.why.clear()
            self.banner.show_message(messages.text_for("screening.no_form"), "warning")
            self._set_form_enabled(False)
            return
        self._build_form(form, person.sex)
        self._reset_form()
        self._set_form_enabled(True)

    def _start_form(self) -> None:
        """Enter on the queue (or Ctrl+T): to the first vital sign, the temperature; on a
        children's checklist, first to the guardian's name while it is empty."""
        if self.form_area.isEnabled() and self.form.guardian and not self.guardian_name.text():
            self.guardian_name.setFocus()
            return
        if self.form_area.isEnabled() and self.vitals:
            first = next(iter(self.vitals.values()))
            first.setFocus()
            first.selectAll()

    def _reset_form(self) -> None:
        for box in self.item_boxes.values():
            box.setChecked(False)
        for edit in (*self.vitals.values(), *self.details.values(), self.reason,
                     self.guardian_name, self.guardian_phone):
            edit.clear()
        self._outcome_touched = False
        self.errors.clear()
        self.form_errors.clear()
        self.banner.clear_message()
        self._recompute()

    def answers(self) -> dict[str, bool]:
        return {k: b.isChecked() for k, b in self.item_boxes.items()}

    def _vital_values(self) -> tuple[dict[str, float | None], list[FieldIssue]]:
        values: dict[str, float | None] = {}
        issues: list[FieldIssue] = []
        for name, edit in self.vitals.items():
            text = edit.text().strip().replace(",", ".")
            if not text:
                values[name] = None
                continue
            try:
                number = float(text)
            except ValueError:
                issues.append(FieldIssue(f"vitals.{name}", "vitals.invalid"))
                continue
            if not math.isfinite(number):
                issues.append(FieldIssue(f"vitals.{name}", "vitals.invalid"))
                continue
            values[name] = number
        issues += rules.check_answers(self.form, self.answers(), values, self._sex)
        return values, issues

    def suggestion(self) -> str:
        values, _ = self._vital_values()
        return rules.suggest_outcome(self.form, self.answers(), values, self._sex)

    def why_text(self, explanation: rules.Explanation) -> str:
        """Which answers and vital signs led to the suggestion, strongest first, and the rule."""
        vi = labels.is_vietnamese()
        if not explanation.findings:
            return self.tr("Every answer is “no” and no vital sign is abnormal.")
        lines = []
        for f in explanation.findings:
            mark = "▶ " if f.decisive else "· "
            if f.kind == "item":
                item = self.form.item(f.ref)
                text = (item.text_vi if vi else item.text_en) if item else f.ref
                what = self.tr("Question {id}: {text}").format(id=f.ref, text=text)
            else:
                value = labels.number(f.value) if f.value is not None else ""
                what = self.tr("{vital} {value} (normal {low}–{high})").format(
                    vital=self._vital_label(f.ref), value=value,
                    low=labels.number(f.low) if f.low is not None else "…",
                    high=labels.number(f.high) if f.high is not None else "…")
            lines.append(f"{mark}{what} → {labels.outcome_short(f.outcome)}")
        if len({f.outcome for f in explanation.findings}) > 1:
            order = " > ".join(labels.outcome_short(o) for o in reversed(rules.OUTCOMES))
            lines.append(self.tr("The strongest wins: {order}.").format(order=order))
        return "\n".join(lines)

    def _recompute(self) -> None:
        values, issues = self._vital_values()
        for name in self.vitals:
            self.form_errors.set_issues(f"vitals.{name}", [i for i in issues if i.field == f"vitals.{name}"])
        explanation = rules.explain(self.form, self.answers(), values, self._sex)
        suggested = explanation.outcome
        self.why.setText(self.why_text(explanation))
        self.suggested.setText(labels.outcome_name(suggested))
        colour = OUTCOME_COLOURS.get(suggested, "#111")
        self.suggested.setStyleSheet(f"color: {colour}; border-color: {colour};")
        if not self._outcome_touched:
            self.outcome.setCurrentIndex(self.outcome.findData(suggested))
        self._update_reason()

    def _outcome_chosen(self, _index: int) -> None:
        self._outcome_touched = True
        self._update_reason()

    def _update_reason(self) -> None:
        differs = self.outcome.currentData() != self.suggestion()
        self.reason.setEnabled(differs)
        if not differs:
            self.errors.clear("override_reason")

    def save(self) -> None:
        row = selected_row(self.queue_view)
        if not isinstance(row, tuple) or self._busy:
            return
        _reg, person = row
        values, issues = self._vital_values()
        errors = [i for i in issues if i.is_error]
        if errors:
            for i in errors:
                self.form_errors.set_issues(i.field, [i])
            return
        outcome = str(self.outcome.currentData())
        reason = self.reason.text() if self.reason.isEnabled() else None
        if reason is not None and len(reason.strip()) < 3:
            self.errors.set_issues("override_reason", [FieldIssue("override_reason", "override_reason.required")])
            self.reason.setFocus()
            return
        answers = self.answers()
        details = {k: e.text() for k, e in self.details.items() if answers.get(k) and e.text().strip()}
        st, actor, form_id = self.ctx.station, self.session.actor, self.form.id
        guardian = (self.guardian_name.text(), self.guardian_phone.text()) if self.form.guardian else (None, None)
        self._busy = True
        self.ctx.tasks.write(
            lambda: clinical.record_screening(
                st, actor, person.id, answers=answers, outcome=outcome, vitals=values,
                form_id=form_id, override_reason=reason, details=details,
                guardian_name=guardian[0], guardian_phone=guardian[1],
            ),
            owner=self, on_ok=self._saved, on_err=self._failed, label="screening",
        )

    def _saved(self, result: ScreeningDTO) -> None:
        self._busy = False
        cleared = result.outcome in ("eligible", "caution")
        text = (self.tr("Saved: {outcome}. Send the person to vaccination.") if cleared
                else self.tr("Saved: {outcome}. The person is not vaccinated today."))
        self.banner.show_message(text.format(outcome=labels.outcome_name(result.outcome)),
                                 "ok" if cleared else "warning")
        self.sig_status.emit(self.tr("Screening saved"))
        self.queue_view.clearSelection()
        self.refresh()
        self.queue_view.setFocus()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        by_field = messages.field_issues(exc)
        if by_field:
            for field, issues in by_field.items():
                self.errors.set_issues(field, issues)
                self.form_errors.set_issues(field, issues)
        self.banner.show_error(exc)
