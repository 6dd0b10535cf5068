"""``search``: type-ahead and exact look-ups on a large station vs a naive LIKE scan."""

from __future__ import annotations

import argparse
import gc
import random
from collections import defaultdict
from typing import Any

from sqlalchemy import text

from bench._util import log, percentile, r3, summary, time_ms
from bench.datagen import ensure_dataset, folded, name_queries, open_dataset, sample_people
from station.search import find_by_id_number, find_by_phone, search
from station.store import Station

NAME = "search"
HELP = "type-ahead search(), exact ID/phone look-ups, naive LIKE scan baseline"
DEFAULT_PEOPLE = 300_000
TARGETS = {"type_ahead_p95_ms": 20.0, "exact_p95_ms": 2.0, "speedup_vs_scan": 20.0}

LIKE_SQL = "SELECT id, full_name, birth FROM person WHERE full_name LIKE :p LIMIT 20"
LIKE_FOLD_SQL = "SELECT id, full_name, birth FROM person WHERE name_fold LIKE :p LIMIT 20"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queries", type=int, default=400, help="min. type-ahead queries (400)")
    p.add_argument("--reps", type=int, default=5, help="timed passes over the queries (5)")
    p.add_argument("--exact", type=int, default=300, help="ID numbers and phones looked up (300)")
    p.add_argument("--scan-queries", type=int, default=300, help="queries for the LIKE scan (300)")


def _like(st: Station, sql: str, q: str) -> int:
    with st.read() as conn:
        return len(conn.execute(text(sql), {"p": f"%{q.strip()}%"}).all())


def run(args: argparse.Namespace) -> dict[str, Any]:
    ds = ensure_dataset(args.people, args.seed, args.keep)
    st = open_dataset(ds)
    try:
        return _measure(st, ds.people, ds.build, ds.reused, args)
    finally:
        st.close()


def _measure(
    st: Station, n_people: int, build: dict[str, Any], reused: bool, args: argparse.Namespace
) -> dict[str, Any]:
    rng = random.Random(args.seed * 7919 + 1)
    sample = sample_people(st, max(args.exact, 400), rng)
    queries = name_queries(sample, rng, args.queries)
    log(f"{len(queries)} type-ahead queries from {len(sample)} sampled people")

    # ---- type-ahead ---------------------------------------------------------------
    log("warm-up: one untimed pass over the queries")
    hits_found = sum(1 for _k, q in queries if search(st, q))
    samples: list[float] = []
    per_query: dict[str, list[float]] = defaultdict(list)
    by_tokens: dict[int, list[float]] = defaultdict(list)
    by_kind: dict[str, list[float]] = defaultdict(list)
    gc.collect()
    for rep in range(args.reps):
        order = list(queries)
        rng.shuffle(order)
        for kind, q in order:
            ms, _ = time_ms(lambda q=q: search(st, q))
            samples.append(ms)
            per_query[q].append(ms)
            by_tokens[min(len(q.split()), 3)].append(ms)
            by_kind[kind].append(ms)
        log(f"type-ahead pass {rep + 1}/{args.reps}: p95 {percentile(samples, 95):.2f} ms so far")
    slowest = sorted(per_query.items(), key=lambda kv: -percentile(kv[1], 50))[:8]

    # ---- exact look-ups -----------------------------------------------------------
    ids = [p.id_number for p in sample if p.id_number][: args.exact]
    phones = [p.phone for p in sample if p.phone][: args.exact]
    for num in ids[:50]:
        find_by_id_number(st, num)
    for ph in phones[:50]:
        find_by_phone(st, ph)
    id_ms: list[float] = []
    phone_ms: list[float] = []
    misses = 0
    gc.collect()
    for _rep in range(args.reps):
        for num, ph in zip(ids, phones, strict=False):
            ms, hit = time_ms(lambda num=num: find_by_id_number(st, num))
            id_ms.append(ms)
            misses += hit is None
            ms, hits = time_ms(lambda ph=ph: find_by_phone(st, ph))
            phone_ms.append(ms)
            misses += not hits
    log(
        f"exact: id p95 {percentile(id_ms, 95):.3f} ms, phone p95 {percentile(phone_ms, 95):.3f} ms"
    )

    # ---- one typo per name, and tails of numbers (issue 17) --------------------------------
    typo_rng = random.Random(args.seed * 31 + 7)

    def with_typo(name: str) -> str:
        words = name.split()
        i = typo_rng.randrange(len(words))
        w = words[i]
        if len(w) > 2:
            j = typo_rng.randrange(1, len(w))
            words[i] = w[:j] + w[j + 1:]  # one letter dropped: "ngyen", "vn"
        return " ".join(words)

    typo_cases = [(with_typo(p.name_fold), p.name_fold) for p in sample[: args.exact]]
    tails = ([f"…{p.phone[-3:]}" for p in sample[: args.exact] if p.phone]
             + [p.id_number[-4:] for p in sample[: args.exact] if p.id_number])
    for q, _n in typo_cases[:20]:
        search(st, q)
    typo_ms: list[float] = []
    typo_found = 0
    tail_ms: list[float] = []
    tail_hits = 0
    gc.collect()
    for q, name in typo_cases:
        ms, hits = time_ms(lambda q=q: search(st, q))
        typo_ms.append(ms)
        typo_found += any(folded(h.full_name) == name for h in hits)
    for q in tails:
        ms, hits = time_ms(lambda q=q: search(st, q))
        tail_ms.append(ms)
        tail_hits += bool(hits)
    log(f"typos p95 {percentile(typo_ms, 95):.2f} ms, tails p95 {percentile(tail_ms, 95):.2f} ms")

    # ---- naive LIKE scan baseline (same queries, same st.read() connections) ---------
    step = max(1, len(queries) // max(1, args.scan_queries))
    scan_qs = [q for _k, q in queries[::step]][: args.scan_queries]
    for q in scan_qs[:5]:
        _like(st, LIKE_SQL, q)
    gc.collect()
    like_ms: list[float] = []
    like_ta: list[float] = []  # search() on exactly the scanned queries (paired figure)
    for i, q in enumerate(scan_qs):
        like_ms.append(time_ms(lambda q=q: _like(st, LIKE_SQL, q))[0])
        like_ta.append(percentile(per_query[q], 50))
        if (i + 1) % 50 == 0:
            log(f"LIKE scan {i + 1}/{len(scan_qs)}: p95 {percentile(like_ms, 95):.1f} ms so far")
    # The same scan on the folded column with the folded query: matches what search()
    # matches (diacritics-insensitive), so it is the fairer "no index" baseline.
    fold_qs = scan_qs[: max(1, len(scan_qs) // 3)]
    fold_ms = [time_ms(lambda q=q: _like(st, LIKE_FOLD_SQL, folded(q)))[0] for q in fold_qs]
    log(
        f"LIKE scans done: full_name p95 {percentile(like_ms, 95):.1f} ms, "
        f"name_fold p95 {percentile(fold_ms, 95):.1f} ms"
    )

    # ---- quality: does a whole-name search show that name in the top 20? -----------
    names = [p.name_fold for p in sample]
    found = sum(1 for nf in names if any(folded(h.full_name) == nf for h in search(st, nf)))

    ta_p95 = percentile(samples, 95)
    exact_p95 = percentile(id_ms + phone_ms, 95)
    like_p95 = percentile(like_ms, 95)
    figures = {
        "type_ahead_p95_ms": r3(ta_p95),
        "exact_p95_ms": r3(exact_p95),
        "speedup_vs_scan": round(like_p95 / ta_p95, 1),
    }
    passed = {
        "type_ahead_p95_ms": ta_p95 <= TARGETS["type_ahead_p95_ms"],
        "exact_p95_ms": exact_p95 <= TARGETS["exact_p95_ms"],
        "speedup_vs_scan": like_p95 / ta_p95 >= TARGETS["speedup_vs_scan"],
    }
    return {
        "bench": NAME,
        "people": n_people,
        "seed": args.seed,
        "build_seconds": build.get("build_seconds"),
        "dataset_reused": reused,
        "type_ahead_p50_ms": r3(percentile(samples, 50)),
        **figures,
        "exact_id_p95_ms": r3(percentile(id_ms, 95)),
        "exact_phone_p95_ms": r3(percentile(phone_ms, 95)),
        "exact_p50_ms": r3(percentile(id_ms + phone_ms, 50)),
        "like_scan_p50_ms": r3(percentile(like_ms, 50)),
        "like_scan_p95_ms": r3(like_p95),
        "like_scan_fold_p95_ms": r3(percentile(fold_ms, 95)),
        "speedup_vs_fold_scan": round(percentile(fold_ms, 95) / ta_p95, 1),
        "type_ahead_p95_on_scan_queries_ms": r3(percentile(like_ta, 95)),
        "queries": len(queries),
        "query_samples": len(samples),
        "reps": args.reps,
        "queries_with_hits": round(hits_found / len(queries), 3),
        "exact_misses": misses,
        "full_name_top20_rate": round(found / len(names), 3),
        "typo_p50_ms": r3(percentile(typo_ms, 50)),
        "typo_p95_ms": r3(percentile(typo_ms, 95)),
        "typo_found_rate": round(typo_found / max(1, len(typo_cases)), 3),
        "tail_p50_ms": r3(percentile(tail_ms, 50)),
        "tail_p95_ms": r3(percentile(tail_ms, 95)),
        "tail_with_hits_rate": round(tail_hits / max(1, len(tails)), 3),
        "typo_p95_over_type_ahead_p95": round(percentile(typo_ms, 95) / ta_p95, 2),
        "tail_p95_over_type_ahead_p95": round(percentile(tail_ms, 95) / ta_p95, 2),
        "scan_queries": len(scan_qs),
        "type_ahead_by_tokens": {str(k): summary(v) for k, v in sorted(by_tokens.items())},
        "type_ahead_by_kind": {k: summary(v) for k, v in sorted(by_kind.items())},
        "slowest_queries_p50_ms": {q: r3(percentile(v, 50)) for q, v in slowest},
        "build": build,
        "targets": TARGETS,
        "pass": passed,
    }
