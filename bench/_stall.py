"""The GUI thread's event-loop stalls, measured while background work runs (``ui_stall``).

A 10 ms QTimer ticks on the GUI thread: the gaps between its ticks are the
stalls a user feels. A plain Python thread (the probe) wakes every 10 ms at the
same time: while the whole process is paused (a full garbage collection, the GIL
held by another thread for long, the machine's CPU taken by other processes) the
probe is late too. The part of a GUI gap during which the probe kept waking is
the GUI thread's own doing: a blocking call on the GUI thread, or slow work in a
slot. When the GUI thread is late, its Python stack is sampled, so a report says
where it was.

This lives in the benchmarks, not the tests: a stall in milliseconds depends on
the machine and its load, so it is a figure with a same-run baseline, never a
pass/fail bound in a test.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import sys
import threading
import time
import traceback

from PySide6.QtCore import QTimer

from bench._util import percentile


class StallMeter:
    """How long the GUI thread's event loop stalls, and whose fault a stall was.

    A 10 ms QTimer ticks on the GUI thread: the longest gap between two ticks is
    the worst stall a user would feel. A plain Python thread (the probe) wakes
    every 10 ms at the same time: while the whole process is paused (a full
    garbage collection, the GIL held by another thread, the machine's CPU taken
    by other processes) the probe is late too. The part of a GUI gap during
    which the probe kept waking is the GUI thread's own doing: a blocking call
    on the GUI thread, or slow work in a slot. When the GUI thread is late, its
    Python stack is sampled, so a failure says where it was.
    """

    def __init__(self, interval_ms: int = 10, sample_after_ms: int = 120) -> None:
        self.ticks: list[float] = []  # monotonic times of the GUI timer's ticks
        self.wakes: list[float] = []  # monotonic times of the probe's wake-ups
        self.gc_pauses: list[tuple[float, int, int]] = []  # (start, ms, generation), any thread
        self.samples: list[tuple[int, str]] = []  # (ms late, GUI thread stack)
        self._interval_ms = interval_ms
        self._sample_after = sample_after_ms / 1000
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._gui_ident = threading.get_ident()
        self._stop = threading.Event()
        self._probe: threading.Thread | None = None
        self._gc_started = 0.0

    def _tick(self) -> None:
        self.ticks.append(time.monotonic())

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.monotonic()
        else:
            ms = int((time.monotonic() - self._gc_started) * 1000)
            self.gc_pauses.append((self._gc_started, ms, info["generation"]))

    def _run_probe(self) -> None:
        sampled_for = 0.0
        while not self._stop.wait(self._interval_ms / 1000):
            now = time.monotonic()
            self.wakes.append(now)
            last = self.ticks[-1] if self.ticks else now
            if now - last >= self._sample_after and sampled_for != last:
                sampled_for = last
                frame = sys._current_frames().get(self._gui_ident)
                stack = "".join(traceback.format_stack(frame, limit=8)) if frame else "(no frame)"
                self.samples.append((int((now - last) * 1000), stack))

    def start(self) -> None:
        self.ticks.append(time.monotonic())
        gc.callbacks.append(self._gc)
        self._timer.start()
        self._stop.clear()
        self._probe = threading.Thread(target=self._run_probe, name="stall-probe", daemon=True)
        self._probe.start()

    def stop(self) -> None:
        self._timer.stop()
        self._stop.set()
        if self._probe is not None:
            self._probe.join(5)
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)

    # ---- figures ------------------------------------------------------------------------------

    def gaps_ms(self) -> list[int]:
        return [int((b - a) * 1000) for a, b in itertools.pairwise(self.ticks)]

    @property
    def worst_ms(self) -> int:
        return max(self.gaps_ms(), default=0)

    def over(self, ms: int) -> int:
        return sum(1 for g in self.gaps_ms() if g > ms)

    def _paused_within(self, a: float, b: float) -> float:
        """The longest stretch of [a, b] during which the probe did not wake (process paused)."""
        lo = bisect.bisect_left(self.wakes, a)
        hi = bisect.bisect_right(self.wakes, b)
        points = [a, *self.wakes[lo:hi], b]
        return max((q - p for p, q in itertools.pairwise(points)), default=b - a)

    def worst_own_ms(self) -> int:
        """The worst GUI gap minus the process-wide pause inside it: the GUI thread's own stall."""
        worst = 0.0
        for a, b in itertools.pairwise(self.ticks):
            if b - a > 0.05:
                worst = max(worst, (b - a) - self._paused_within(a, b))
        return int(worst * 1000)

    def worst_probe_ms(self) -> int:
        return int(max((b - a for a, b in itertools.pairwise(self.wakes)), default=0) * 1000)

    def long_gc_pauses(self, ms: int = 50) -> list[tuple[int, int]]:
        """(ms, generation) of the garbage collections longer than ``ms``."""
        return [(d, g) for _t, d, g in self.gc_pauses if d > ms]

    def where(self, limit: int = 3) -> str:
        """The GUI thread's stack during the first few stalls (for a failure message)."""
        return "\n".join(f"--- GUI late by {ms} ms:\n{stack}" for ms, stack in self.samples[:limit])

    def p99_ms(self) -> float:
        return round(percentile(self.gaps_ms(), 99), 1)

    def figures(self) -> dict[str, object]:
        """The numbers a report prints (milliseconds)."""
        return {
            "worst_ms": self.worst_ms,
            "p99_ms": self.p99_ms(),
            "ticks": len(self.ticks),
            "gaps_over_100ms": self.over(100),
            "gui_own_worst_ms": self.worst_own_ms(),
            "process_paused_worst_ms": self.worst_probe_ms(),
            "gc_pauses_over_50ms": self.long_gc_pauses(),
        }
