"""The sync engine's tunables (``SyncSettings``), apart from the engine so the size rule holds.

``sync.engine`` re-exports it: ``from sync.engine import SyncSettings`` keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

from station import outbox


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """Tunables; defaults suit a slow rural line."""

    # A cycle's first batch, then ×1.5 after each clean answer (halved after a timeout).
    # Issue 15: 512 KB (~800 ops, ~100 KB gzipped: 3 s at 256 kbit/s) and up to 1,000
    # ops (the protocol's MAX_OPS_PER_PUSH, which every hub takes) instead of 256 KB and
    # 500: 3,223 ops crossed the 256 kbit/s, 300 ms line in 4 round trips instead of 7
    # (21.5 → 18.0 s); on loopback no measurable change. Nothing about commits changes:
    # the station still records a batch's answers in one FULL commit.
    batch_bytes_initial: int = 512 * 1024
    batch_bytes_min: int = 4 * 1024
    batch_bytes_max: int = 2 * 1024 * 1024  # well under MAX_BODY_BYTES
    batch_ops_max: int = 1000
    # Changes per pull page (the hub allows up to MAX_PULL_LIMIT). 1,000 halves the
    # round trips and commits of 500 (a bootstrap ~10% faster); a page is ~60 KB
    # gzipped, a few seconds on a 256 kbit/s line, and ~30 ms of write lock here.
    pull_limit: int = 1000
    interval_s: float = 30.0  # between full cycles while idle (the long-poll pull watches meanwhile)
    # A committed local write wakes the engine; writes within this long of the last
    # cycle's start wait for the next one (a busy desk: at most one cycle a second).
    write_debounce_s: float = 1.0
    # While idle and online, a long-poll pull waits this long for a sibling's change (0: off).
    long_poll_s: float = 25.0
    backoff_base_s: float = 2.0
    # Backoff caps by kind of failure: no answer at all (the line is down: probe often,
    # each probe is one tiny GET), the hub answering 5xx, and refusals (4xx).
    offline_probe_max_s: float = 30.0
    server_error_max_s: float = 60.0
    backoff_max_s: float = 300.0
    max_transient_failures_per_cycle: int = 4
    max_push_batches_per_cycle: int = 2000
    max_pull_pages_per_cycle: int = 2000
    cycle_time_budget_s: float = 900.0
    stall_cycles: int = 5  # watchdog: online cycles without progress before "stalled"
    retention_days: int = outbox.DEFAULT_RETENTION_DAYS
    seed: int | None = None  # jitter RNG seed (tests)
    # The site hub route: how often an idle desk asks it for the province's answers to the
    # ops it holds (a LAN request; the province may be unreachable for hours).
    relay_answers_poll_s: float = 3.0
