"""Small building blocks shared by the workspaces: tables, banners, field errors, pickers."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QTableView,
    QWidget,
)

from kernel.errors import FieldIssue
from kernel.rules.vietnam import fold
from ui import messages, theme
from ui.models.table import ROW_ROLE, SORT_ROLE, RowsModel

FOLD_ROLE = Qt.ItemDataRole.UserRole + 10
CODE_ROLE = Qt.ItemDataRole.UserRole + 11


class _SelectOnFocus(QObject):
    """Tabbing into a list selects its current (first) row, so Enter acts on what is highlighted.

    Qt gives a focused view a current index without selecting it; a keyboard
    user would then see a focus frame but Enter would do nothing.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QTableView):
            sel = watched.selectionModel()
            if sel is not None and not sel.hasSelection():
                model = watched.model()
                if model is not None and model.rowCount() > 0:
                    row = watched.currentIndex().row() if watched.currentIndex().isValid() else 0
                    watched.selectRow(row)
        return False


def make_table(
    model: RowsModel, parent: QWidget | None = None, *, sortable: bool = False,
    stretch_column: int | None = None,
) -> QTableView:
    """A read-only, row-selecting, keyboard-friendly table.

    Columns take the width of their content; with ``stretch_column`` (a name) that column
    takes what is left instead, so a narrow pane never hides columns behind a scroll bar.
    """
    view = QTableView(parent)
    view.installEventFilter(_SelectOnFocus(view))
    if sortable:
        proxy = QSortFilterProxyModel(view)
        proxy.setSourceModel(model)
        proxy.setSortRole(SORT_ROLE)
        view.setModel(proxy)
        view.setSortingEnabled(True)
    else:
        view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(30)
    # The theme draws headers bold: give the header a bold font so ResizeToContents
    # measures the text as drawn (a plain-font measure cuts bold headers short).
    bold = view.horizontalHeader().font()
    bold.setBold(True)
    view.horizontalHeader().setFont(bold)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setResizeContentsPrecision(0)
    if stretch_column is not None:
        view.horizontalHeader().setStretchLastSection(False)
        view.horizontalHeader().setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setWordWrap(False)
    view.setTabKeyNavigation(False)  # Tab leaves the table: keyboard users need that
    return view


def selected_row(view: QTableView) -> object | None:
    """The DTO of the selected row (through any proxy), or None."""
    sel = view.selectionModel()
    if sel is None:
        return None
    rows = sel.selectedRows()
    if not rows:
        return None
    value: object = rows[0].data(ROW_ROLE)
    return value


def select_first(view: QTableView) -> bool:
    model = view.model()
    if model is None or model.rowCount() == 0:
        return False
    view.selectRow(0)
    view.setCurrentIndex(model.index(0, 0))
    return True


def select_where(view: QTableView, predicate: object) -> bool:
    model = view.model()
    assert callable(predicate)
    for r in range(model.rowCount()):
        if predicate(model.index(r, 0).data(ROW_ROLE)):
            view.selectRow(r)
            view.setCurrentIndex(model.index(r, 0))
            return True
    return False


OK_BANNER_MS = 15_000


class Banner(QLabel):
    """One line of feedback at the top of a workspace: ok / warning / error.

    A green "done" message fades after a while, so it is never read as news about
    the next person; warnings and errors stay until the next action replaces them.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self._fade = QTimer(self)
        self._fade.setSingleShot(True)
        self._fade.timeout.connect(self.clear_message)
        self.hide()

    def show_message(self, text: str, kind: str = "ok") -> None:
        self.setText(text)
        theme.set_role(self, f"banner-{kind}")
        self.show()
        if kind == "ok":
            self._fade.start(OK_BANNER_MS)
        else:
            self._fade.stop()

    def show_error(self, exc_or_text: BaseException | str) -> None:
        text = exc_or_text if isinstance(exc_or_text, str) else messages.error_text(exc_or_text)
        self.show_message(text, "error")

    def clear_message(self) -> None:
        self._fade.stop()
        self.setText("")
        self.hide()


class FieldErrors(QObject):
    """Error labels next to fields: set from FieldIssues (translated), cleared per field."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._labels: dict[str, QLabel] = {}
        self._inputs: dict[str, QWidget] = {}

    def add(self, field: str, input_widget: QWidget, parent: QWidget) -> QLabel:
        label = QLabel(parent)
        label.setWordWrap(True)
        label.hide()
        self._labels[field] = label
        self._inputs[field] = input_widget
        return label

    def fields(self) -> list[str]:
        return list(self._labels)

    def set_issues(self, field: str, issues: Iterable[FieldIssue]) -> None:
        label = self._labels.get(field)
        if label is None:
            return
        items = list(issues)
        errors = [i for i in items if i.is_error]
        shown = errors or items
        widget = self._inputs[field]
        widget.setProperty("invalid", bool(errors))
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        if not shown:
            label.clear()
            label.hide()
            return
        label.setText(" ".join(messages.issue_text(i) for i in shown))
        theme.set_role(label, "fieldError" if errors else "fieldWarning")
        label.show()

    def clear(self, field: str | None = None) -> None:
        for name in [field] if field else list(self._labels):
            self.set_issues(name, [])

    def text(self, field: str) -> str:
        label = self._labels.get(field)
        return label.text() if label is not None else ""

    def has_error(self, field: str) -> bool:
        w = self._inputs.get(field)
        return bool(w is not None and w.property("invalid"))

    def input(self, field: str) -> QWidget | None:
        return self._inputs.get(field)


class FoldingCompleter(QCompleter):
    """Diacritic-insensitive completion: "bien hoa" finds "Phường Biên Hòa"."""

    def __init__(self, model: QAbstractItemModel, parent: QObject | None = None) -> None:
        super().__init__(model, parent)
        self.setCompletionRole(FOLD_ROLE)
        self.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setMaxVisibleItems(12)

    def splitPath(self, path: str) -> list[str]:
        return [fold(path)]

    def pathFromIndex(self, index: QModelIndex | QPersistentModelIndex) -> str:
        return str(index.data(Qt.ItemDataRole.DisplayRole) or "")


class CodePicker(QComboBox):
    """An editable combo of (code, name) with folded type-ahead; ``code()`` is the choice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self._model = QStandardItemModel(self)
        self.setModel(self._model)
        self.setCompleter(FoldingCompleter(self._model, self))
        self.setMaxVisibleItems(15)

    def edit(self) -> QLineEdit:
        line = self.lineEdit()
        assert line is not None  # always editable
        return line

    def set_items(self, items: Iterable[tuple[str, str]]) -> None:
        self.blockSignals(True)
        self._model.clear()
        for code, name in items:
            it = QStandardItem(name)
            it.setData(fold(name), FOLD_ROLE)
            it.setData(code, CODE_ROLE)
            self._model.appendRow(it)
        self.setCurrentIndex(-1)
        self.setEditText("")
        self.blockSignals(False)

    def code(self) -> str | None:
        """The chosen code; None when the text matches no item exactly (folded)."""
        text = fold(self.currentText().strip())
        if not text:
            return None
        for r in range(self._model.rowCount()):
            it = self._model.item(r)
            if it.data(FOLD_ROLE) == text:
                return str(it.data(CODE_ROLE))
        return None

    def set_code(self, code: str | None) -> None:
        for r in range(self._model.rowCount()):
            if self._model.item(r).data(CODE_ROLE) == code:
                self.setCurrentIndex(r)
                return
        self.setCurrentIndex(-1)
        self.setEditText("")


def shortcut(
    keys: str | QKeySequence,
    parent: QWidget,
    slot: Callable[[], object],
    *,
    local: bool = False,
) -> QShortcut:
    """A keyboard shortcut; ``local`` ones work only while focus is inside ``parent``."""
    sc = QShortcut(QKeySequence(keys), parent)
    if local:
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    sc.activated.connect(slot)
    return sc


class UndoBar(QFrame):
    """"Done: … — Undo (Ctrl+Z)": the last action can be taken back for a few seconds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoBar")
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.button = QPushButton(self)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        row.addWidget(self.text, 1)
        row.addWidget(self.button)
        self.hide()

    def show_undo(self, text: str, button_text: str) -> None:
        self.text.setText(text)
        self.button.setText(button_text)
        self.show()


def wrap_popup(combo: QComboBox, width: int) -> None:
    """Open the drop-down list ``width`` px wide and wrap long items onto more lines."""
    view = QListView(combo)
    view.setWordWrap(True)
    view.setTextElideMode(Qt.TextElideMode.ElideNone)
    view.setUniformItemSizes(False)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMinimumWidth(width)
    combo.setView(view)
