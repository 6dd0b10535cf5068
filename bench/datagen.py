"""Building (and caching) benchmark stations through the real services, and query sets.

A cached dataset lives in ``<root>/people-<N>-seed-<S>/`` (root: ``bench/out`` or
``--keep DIR``)::

    station/          the data directory (station.json, station.db)
    bench-key.json    the keyring entries holding the SQLCipher key (bench only!)
    build.json        written last: the dataset is complete (build figures inside)

The key normally lives only in the OS keyring. Benchmarks run with an in-memory
keyring, so the key would die with the process; ``bench-key.json`` keeps it next
to the cached database so the next run can reopen it. That defeats the encryption
of that file, which is acceptable only for synthetic benchmark data.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench._util import log, memory_keyring
from kernel.rules import vietnam as vn
from station import demo
from station.services import people
from station.store import Actor, Station, init_station, open_station

DEFAULT_ROOT = Path(__file__).resolve().parent / "out"
SITE_CODE = "BENCH-01"
BATCH = 5000  # people per add_expected call (one transaction each)
KEY_FILE = "bench-key.json"
DONE_FILE = "build.json"


@dataclass(frozen=True, slots=True)
class Dataset:
    path: Path  # the dataset folder
    people: int  # persons actually in the database
    seed: int
    build: dict[str, Any]  # figures from build.json
    reused: bool

    @property
    def data_dir(self) -> Path:
        return self.path / "station"


def dataset_path(root: Path, people_count: int, seed: int) -> Path:
    return root / f"people-{people_count}-seed-{seed}"


def save_keyring(path: Path) -> None:
    kr = memory_keyring()
    entries = [[s, u, p] for (s, u), p in sorted(kr.store.items())]
    path.write_text(json.dumps({"entries": entries}, indent=2), encoding="utf-8")


def load_keyring(path: Path) -> None:
    kr = memory_keyring()
    for service, username, password in json.loads(path.read_text(encoding="utf-8"))["entries"]:
        kr.set_password(service, username, password)


def add_people(
    st: Station,
    actor: Actor,
    count: int,
    seed: int,
    *,
    batch: int = BATCH,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict[str, Any]:
    """Add ``count`` fake people with people.add_expected, ``batch`` per call.

    Each batch is expected on one of the next seven days (the service refuses past
    days). Returns timing figures: total, time spent making inputs, per-batch times.
    """
    rng = random.Random(seed)
    today = st.today()
    done = 0
    gen_s = 0.0
    batch_s: list[float] = []
    t_all = time.perf_counter()
    while done < count:
        n = min(batch, count - done)
        t = time.perf_counter()
        rows = [demo.fake_person(rng, today) for _ in range(n)]
        t1 = time.perf_counter()
        gen_s += t1 - t
        day = today + timedelta(days=1 + len(batch_s) % 7)
        people.add_expected(st, actor, rows, day=day, source="import")
        batch_s.append(time.perf_counter() - t1)
        done += n
        if progress:
            progress(done, count, time.perf_counter() - t_all)
    return {
        "total_seconds": round(time.perf_counter() - t_all, 2),
        "input_seconds": round(gen_s, 2),
        "service_seconds": round(sum(batch_s), 2),
        "batches": len(batch_s),
        "batch_size": batch,
        "first_batch_seconds": round(batch_s[0], 3) if batch_s else None,
        "last_batch_seconds": round(batch_s[-1], 3) if batch_s else None,
    }


def _progress(done: int, total: int, elapsed: float) -> None:
    rate = done / elapsed if elapsed else 0.0
    eta = (total - done) / rate if rate else 0.0
    log(f"built {done:,}/{total:,} people ({rate:,.0f}/s, eta {eta:,.0f}s)")


def count_people(st: Station) -> int:
    with st.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM person")).scalar_one())


def ensure_dataset(people_count: int, seed: int, root: Path | None = None) -> Dataset:
    """Reuse the cached dataset for (people, seed) under ``root`` or build it."""
    root = Path(root) if root else DEFAULT_ROOT
    path = dataset_path(root, people_count, seed)
    done = path / DONE_FILE
    if done.exists() and (path / KEY_FILE).exists():
        info = json.loads(done.read_text(encoding="utf-8"))
        load_keyring(path / KEY_FILE)
        log(f"reusing cached dataset {path} (built in {info['build_seconds']} s)")
        return Dataset(path, int(info["people"]), seed, info, reused=True)

    partial = path.with_name(path.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)
    partial.mkdir(parents=True)
    log(f"building dataset: {people_count:,} people, seed {seed} -> {path}")
    t0 = time.perf_counter()
    st = init_station(partial / "station", SITE_CODE)
    try:
        save_keyring(partial / KEY_FILE)
        actors = demo.ensure_users(st)
        demo.ensure_lots(st, actors["supervisor"], st.today())
        figures = add_people(st, actors["supervisor"], people_count, seed, progress=_progress)
        n = count_people(st)
    finally:
        st.close()  # the last connection closing checkpoints the WAL into the file
    build_seconds = round(time.perf_counter() - t0, 2)
    info = {
        "people_requested": people_count,
        "people": n,
        "seed": seed,
        "build_seconds": build_seconds,
        "db_bytes": (partial / "station" / "station.db").stat().st_size,
        "built_on": date.today().isoformat(),
        **figures,
    }
    (partial / DONE_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
    partial.rename(path)
    log(f"built {n:,} people in {build_seconds} s ({n / build_seconds:,.0f}/s)")
    return Dataset(path, n, seed, info, reused=False)


def open_dataset(ds: Dataset) -> Station:
    load_keyring(ds.path / KEY_FILE)
    return open_station(ds.data_dir)


# ---- query sets ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SampledPerson:
    full_name: str
    name_fold: str
    id_number: str | None
    phone: str | None


def sample_people(st: Station, n: int, rng: random.Random) -> list[SampledPerson]:
    """``n`` random persons of the database (uniform over rowids)."""
    with st.read() as conn:
        max_rid = int(conn.execute(text("SELECT max(rid) FROM person")).scalar_one())
        rids = rng.sample(range(1, max_rid + 1), min(n, max_rid))
        out: list[SampledPerson] = []
        for i in range(0, len(rids), 500):
            chunk = rids[i : i + 500]
            marks = ", ".join(str(int(r)) for r in chunk)
            rows = conn.execute(
                text(
                    "SELECT rid, full_name, name_fold, id_number, phone FROM person "
                    f"WHERE rid IN ({marks})"
                )
            ).all()
            by_rid = {r[0]: r for r in rows}
            out += [SampledPerson(*by_rid[r][1:]) for r in chunk if r in by_rid]
    return out


def _cut(tokens: list[str], rng: random.Random) -> str:
    """Tokens joined, the last one cut to a random prefix (as typed so far)."""
    last = tokens[-1]
    keep = rng.randint(1, len(last))
    return " ".join([*tokens[:-1], last[:keep]])


def name_target(p: SampledPerson, rng: random.Random) -> tuple[str, str]:
    """(kind, text the user ends up having typed) for one person."""
    folded = p.name_fold.split()
    raw = p.full_name.split()
    given = folded[-1]
    roll = rng.random()
    if roll < 0.45:  # written order, 1-3 tokens: "ng", "nguyen v", "tran thi h"
        k = rng.randint(1, min(3, len(folded)))
        return "written", _cut(folded[:k], rng)
    if roll < 0.65:  # the given name alone: "lan", "hu"
        return "given", _cut([given], rng)
    if roll < 0.75:  # middle + given: "thi lan"
        return "middle_given", _cut(folded[-2:], rng)
    if roll < 0.90:  # given + family: "hoa nguyen"
        return "given_family", _cut([given, folded[0]], rng)
    # with diacritics, as typed with a Vietnamese keyboard: "Nguyễn Văn H", "Hương"
    if rng.random() < 0.6:
        k = rng.randint(1, min(3, len(raw)))
        return "diacritics", _cut(raw[:k], rng)
    return "diacritics", _cut([raw[-1]], rng)


def name_queries(
    sample: list[SampledPerson], rng: random.Random, min_queries: int
) -> list[tuple[str, str]]:
    """Type-ahead query strings: every keystroke prefix (>= 2 chars) of drawn targets.

    Returns (kind, query) pairs; at least ``min_queries`` of them.
    """
    out: list[tuple[str, str]] = []
    i = 0
    while len(out) < min_queries:
        kind, target = name_target(sample[i % len(sample)], rng)
        i += 1
        for end in range(2, len(target) + 1):
            q = target[:end]
            if q.endswith(" "):
                continue  # the space alone does not change the query (search strips)
            out.append((kind, q))
    return out


def folded(q: str) -> str:
    return vn.fold(q)
