"""Errors the hub answers with: an HTTP status, a stable code, a message, a detail."""

from __future__ import annotations


class HubError(Exception):
    """Raised anywhere below the API; the app turns it into an ``ErrorBody`` response."""

    def __init__(self, status: int, code: str, message: str, **detail: object) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


class Rejected(Exception):
    """An op failed validation or a domain rule: acked ``rejected`` with this reason code.

    ``detail`` must hold no personal data (it is stored and sent back).
    """

    def __init__(self, reason: str, **detail: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
