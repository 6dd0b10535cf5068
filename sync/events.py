"""What the sync engine tells its listeners (the window, the CLI, tests): typed events.

Every event is a frozen dataclass deriving from :class:`SyncEvent`, which carries
the engine's state and the station's backlog at the moment it happened (counts
and codes only: listeners may log or show it, so it never holds personal data).
A listener tells the events apart by type (``match ev: case PushProgress(): ...``),
never by reading attributes that may not be there.

===================  ==========================================================
event                when
===================  ==========================================================
CycleStarted         a cycle begins (the engine probes the hub)
PushProgress         a batch was sent or answered (``done``/``total`` ops)
PullProgress         a page of changes was applied (``done`` = cursor, ``total`` = hub head)
CycleFinished        a cycle ended: ``idle`` (ok), ``offline`` (no answer), ``error``
RemoteApplied        between cycles, the long-poll watch applied a sibling's changes
EngineStatus         not emitted: :meth:`SyncEngine.status`, the numbers now
===================  ==========================================================

The events are defined here, beside the engine that sends them, and not in the
window: ``sync`` may not import ``ui`` (pyproject's import contracts), and the
window's bridge (``ui/bridge.py``) consumes them by type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

EngineState = Literal["offline", "connecting", "pushing", "pulling", "idle", "error"]
# How a cycle can end.
CycleOutcome = Literal["idle", "offline", "error"]


class Backlog(TypedDict):
    """The numbers every event carries (what :meth:`SyncEngine._backlog` reads)."""

    pending: int
    oldest_pending_age_s: float | None
    last_success: str | None
    last_error: str | None
    rejected: int
    reviews: int
    stalled: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncEvent:
    """Base of every engine event: the state and the backlog when it happened."""

    state: EngineState
    pending: int = 0  # ops the hub has not answered yet
    oldest_pending_age_s: float | None = None
    last_success: str | None = None  # ISO time the last full cycle succeeded
    last_error: str | None = None  # an error code (``hub.unreachable``), never a message
    rejected: int = 0
    reviews: int = 0  # open review items
    stalled: bool = False  # the watchdog: online, ops waiting, nothing moving for K cycles


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleStarted(SyncEvent):
    """A cycle begins: the engine is probing the hub (the line state is not known yet)."""

    state: EngineState = "connecting"


@dataclass(frozen=True, slots=True, kw_only=True)
class PushProgress(SyncEvent):
    """Ops sent: ``done`` of ``total`` answered this cycle; ``eta_s`` once there is a rate."""

    state: EngineState = "pushing"
    done: int = 0
    total: int = 0
    eta_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PullProgress(SyncEvent):
    """A page applied: the pull cursor is at ``done`` of the hub's head ``total``."""

    state: EngineState = "pulling"
    done: int = 0
    total: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleFinished(SyncEvent):
    """A cycle ended. ``state``: ``idle`` (ok), ``offline`` (the hub did not answer) or ``error``."""

    state: CycleOutcome = "idle"
    pushed: int = 0  # ops answered this cycle (applied, duplicate, rejected or conflict)
    pulled: int = 0  # changes applied this cycle


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteApplied(SyncEvent):
    """Between cycles the long-poll watch brought a sibling's changes and applied them."""

    state: EngineState = "idle"
    pulled: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineStatus(SyncEvent):
    """The numbers now (:meth:`SyncEngine.status`); never emitted."""


__all__ = [
    "Backlog",
    "CycleFinished",
    "CycleOutcome",
    "CycleStarted",
    "EngineState",
    "EngineStatus",
    "PullProgress",
    "PushProgress",
    "RemoteApplied",
    "SyncEvent",
]
