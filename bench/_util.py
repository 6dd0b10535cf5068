"""Shared helpers: in-memory keyring, timing statistics, progress and the JSON result line."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import keyring

from station.memkeyring import ProcessKeyring

_T0 = time.perf_counter()


# The station's explicit process-local keyring (the same one tests and `tramtiem demo` use).
MemoryKeyring = ProcessKeyring


def memory_keyring() -> MemoryKeyring:
    """The active MemoryKeyring, installing one with ``keyring.set_keyring`` if needed."""
    kr = keyring.get_keyring()
    if isinstance(kr, MemoryKeyring):
        return kr
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    return kr


T = TypeVar("T")


def in_scratch_dir(prefix: str, keep: str | None, body: Callable[[Path], T]) -> T:
    """Run ``body`` in a new temporary directory (under ``keep`` if given, and kept then)."""
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=keep))
    try:
        return body(base)
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
        else:
            log(f"kept {base}")


def stop_on_exit(stack: ExitStack, proc: subprocess.Popen[bytes]) -> None:
    """End ``proc`` when ``stack`` closes: SIGTERM, then SIGKILL after 20 s, reaped either way."""

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)

    stack.callback(stop)


def log(msg: str) -> None:
    """Progress on stderr (stdout is reserved for the JSON result)."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def percentile(values: Iterable[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100) of ``values``."""
    xs = sorted(values)
    if not xs:
        return math.nan
    k = (len(xs) - 1) * p / 100.0
    lo = math.floor(k)
    hi = math.ceil(k)
    if lo == hi:
        return xs[lo]
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of milliseconds, rounded for the report."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": r3(percentile(values, 50)),
        "p95": r3(percentile(values, 95)),
        "p99": r3(percentile(values, 99)),
        "max": r3(max(values)),
        "mean": r3(sum(values) / len(values)),
    }


def r3(x: float) -> float:
    return round(x, 3)


def time_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` once; (elapsed milliseconds, its result)."""
    t = time.perf_counter_ns()
    out = fn()
    return (time.perf_counter_ns() - t) / 1e6, out


def emit(result: dict[str, Any]) -> None:
    """The one JSON object, as the last line of stdout."""
    sys.stdout.flush()
    print(json.dumps(result, ensure_ascii=False, sort_keys=False), flush=True)


def screen_eligible(st: Any, screener: Any, person_id: str) -> None:
    """Screen a person "eligible" on the form the station chooses for their age today
    (the children's checklist also needs a guardian)."""
    from kernel import refdata
    from station.services import clinical

    form_id = clinical.screening_form_for(st, person_id).form_id
    form = refdata.screening_forms()[form_id or ""]
    guardian = (
        {"guardian_name": "Nguyễn Văn Ba", "guardian_phone": "0912000111"} if form.guardian else {}
    )
    clinical.record_screening(
        st, screener, person_id, answers={i.id: False for i in form.items}, outcome="eligible",
        **guardian,
    )


def adult_of_known_age(person: Any) -> bool:
    """A fake person whose full birth date is known and who is 19 or older: every lot of the
    demo is licensed for them and no dose asks about an uncertain age (a birth year alone)."""
    birth = str(person.birth)
    return "/" in birth and int(birth[-4:]) <= time.localtime().tm_year - 19
