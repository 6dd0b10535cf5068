"""The common shape of a workspace: a title, its shortcuts for the help overlay, activation."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from ui.context import AppContext, Session


class Workspace(QWidget):
    """One screen of the main window. Subclasses load their data in ``activate``."""

    # Text for the status line of the main window (e.g. "Saved").
    sig_status = Signal(str)

    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session = session

    def title(self) -> str:
        raise NotImplementedError

    def shortcuts(self) -> list[tuple[str, str]]:
        """(keys, what they do) for the F1 overlay."""
        return []

    def activate(self) -> None:
        """Called each time the workspace is shown: refresh, put focus where work starts."""

    def flush_pending(self) -> None:
        """The window is going away (log out, user switch, quit): write what waits for an undo."""

    def handle_scan(self, payload: str) -> bool:
        """A CCCD QR was scanned while this workspace was shown; True if handled."""
        return False

    def handle_scan_refused(self, code: str) -> bool:
        """A scan was refused (``code``, e.g. an input method rewrote it); True if shown here."""
        return False
