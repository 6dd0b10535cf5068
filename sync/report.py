"""What one sync cycle reports, and how a failure is classed (shared by the engine's phases)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sync.client import HubError, HubRejected

FailureKind = Literal["offline", "server", "refused"]


def failure_kind(exc: HubError) -> FailureKind:
    """No answer at all (the line), the hub failing (5xx), or the hub refusing (4xx)."""
    if isinstance(exc, HubRejected):
        return "refused"
    if exc.status is not None and exc.status >= 500:
        return "server"
    return "offline"


@dataclass(slots=True)
class SyncReport:
    """The outcome of one cycle."""

    ok: bool = False
    online: bool = False
    error: str | None = None
    failure: FailureKind | None = None
    tally_sent: bool = False
    closing_tally: bool = False  # sent again at the end (own doses pulled back, new epoch)
    pushed: int = 0  # applied
    duplicate: int = 0
    rejected: int = 0
    conflict: int = 0
    batches: int = 0
    pulled: int = 0  # changes applied
    pull_pages: int = 0
    own_pulled: int = 0  # of them, doses this station entered (a restored backup pulling back)
    parked: int = 0
    refetched: bool = False
    epoch_rotated: bool = False
    pending_left: int = 0
    cursor: int = 0
    stalled: bool = False
    duration_s: float = 0.0
    timeouts: int = 0
    batch_bytes: int = 0
    # The site hub route: the province's answers collected through it, and the ops it
    # holds that the province has not answered yet.
    province_answers: int = 0
    relay_waiting: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return self.pushed + self.duplicate + self.rejected + self.conflict


class CycleAbort(Exception):
    """A phase gave up on this cycle (a loop that makes no progress); ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


__all__ = ["CycleAbort", "FailureKind", "SyncReport", "failure_kind"]
