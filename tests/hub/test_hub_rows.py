"""The rows a push writes in bulk, as stored and as read back (issue 15, phase 7).

* The JSON columns written in bulk (change rows' ``data``, the ledger's ``result``) are
  the text SQLAlchemy's JSON type writes (``json.dumps``, ASCII), on SQLite and
  PostgreSQL; a pull reads every value back, also from a row stored compact; pull pages
  keep their data within the byte budget on the wire, Vietnamese text included.
* ``row_values`` (tuples by ``itemgetter`` where a table has no JSON column): a row's
  values in the table's column order, a missing column NULL, extra keys ignored, through
  the real driver (SQLite ``executemany``, PostgreSQL ``COPY``). Fails without it.
* The middleware's quick scan of a body (``_suspect_json``) answers as its first
  definition (kept here as the reference) over generated bodies.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.app import HubSettings
from hub.db import Database
from hub.effects import insert_rows
from hub.middleware import _suspect_json
from hub.models import ChangeLog, PersonSite
from hub.rowvalues import json_text, row_values, shape
from hub.server import run_hub
from station.services import people
from tests.hub.conftest import Hub, Sim
from tests.hub.test_sync_flow import SITE_A, vaccinate
from tests.pg import PgCluster, migrated_hub_url
from tests.station.helpers import person

COMPACT = {"separators": (",", ":")}
ADDRESS = "Số nhà 18, ngõ 7, đường Nguyễn Thị Minh Khai, phường Bến Nghé, quận Một — ấp Đông Hưng Thuận"


def _stored(hub: Hub, sql: str) -> list[str]:
    with hub.db.read() as s:
        return [str(v) for v in s.execute(text(sql)).scalars()]


def test_stored_json_is_json_dumps_ascii_and_reads_back(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    b = make_station(hub, SITE_A, letter="B")
    vaccinate(a, full_name="Nguyễn Thị Ánh Tuyết", address_line=ADDRESS)
    pushed = a.push()
    assert {r["status"] for r in pushed["results"]} == {"applied"}
    data = _stored(hub, "SELECT CAST(data AS TEXT) FROM change_log ORDER BY server_seq")
    results = _stored(hub, "SELECT CAST(result AS TEXT) FROM applied_op")
    assert len(data) >= 5 and len(results) == len(pushed["results"])
    for raw in data + results:
        # ASCII, exactly what json.dumps writes (as SQLAlchemy's JSON type would).
        assert raw.isascii() and raw == json.dumps(json.loads(raw))
    assert any("Nguy\\u1ec5n" in raw for raw in data)  # the name, escaped
    # A row stored compact reads the same.
    with hub.db.write() as s:
        first = int(s.execute(text("SELECT min(server_seq) FROM change_log")).scalar_one())
        old = json.loads(data[0])
        s.execute(
            text("UPDATE change_log SET data = :d WHERE server_seq = :q"),
            {"d": json.dumps(old, ensure_ascii=False, **COMPACT), "q": first},
        )
    got = {c["server_seq"]: c["data"] for c in b.pull()}
    assert len(got) == len(data)
    assert [got[k] for k in sorted(got)] == [json.loads(raw) for raw in data]
    names = [d["full_name"] for d in got.values() if "full_name" in d]
    assert "Nguyễn Thị Ánh Tuyết" in names
    # A retry is answered from the stored result: the same answer.
    again = a.post_push(a.outbox(all_ops=True)).json()["results"]
    assert {r["status"] for r in again} == {"duplicate"}
    assert [r["server_seq"] for r in again] == [r["server_seq"] for r in pushed["results"]]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_pull_pages_stay_within_their_byte_budget(
    backend: str, tmp_path: Path, pg: PgCluster | None, make_station: Callable[..., Sim]
) -> None:
    url = migrated_hub_url(backend, tmp_path, pg)
    budget = 3000
    with run_hub(HubSettings(database_url=url, max_pull_bytes=budget)) as running, httpx.Client(
        timeout=30
    ) as client:
        db = Database(url)
        try:
            hub = Hub(running, db, backend, client)
            a = make_station(hub, SITE_A)
            for i in range(12):
                people.register_walk_in(
                    a.st, a.staff.clerk,
                    person(full_name=f"Trần Thị Ngọc Ánh {chr(65 + i)}", id_number=f"07518500{i:04d}",
                           phone=f"09123456{i:02d}", address_line=ADDRESS),
                )
            a.push()
            pages: list[list[dict[str, Any]]] = []
            cursor = 0
            for _ in range(200):
                page = client.get(
                    hub.api + "/pull", params={"cursor": cursor, "limit": 1000}, headers=a.headers
                ).json()
                pages.append(page["changes"])
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    break
            wire = [
                [len(json.dumps(c["data"], ensure_ascii=False, **COMPACT).encode()) for c in p] for p in pages
            ]
            assert len(pages) > 3 and all(p for p in pages[:-1])
            # A page of more than one row keeps its data's bytes on the wire within the budget.
            assert all(sum(w) <= budget for w in wire if len(w) > 1), wire
            assert sum(len(p) for p in pages) == hub.count("change_log")
            assert any(len(w) > 1 for w in wire)
        finally:
            db.dispose()


def test_row_values_through_the_driver(db: Database) -> None:
    change = ChangeLog.__table__
    cols, json_at = shape(change)  # type: ignore[arg-type]
    assert [cols[i] for i in json_at] == ["data"]
    full = {
        "server_seq": 10**12 + 1, "scope": "DN-A", "entity_type": "person", "entity_id": "p1",
        "kind": "upsert", "row_version": 1, "data": {"a": [1, "ễ"]}, "origin_op_id": None, "echo_for": "r:1",
    }
    lacking = {k: v for k, v in full.items() if k != "echo_for"} | {"server_seq": 10**12 + 2, "extra": 5}
    values = row_values(change, [full])  # type: ignore[arg-type]
    assert values == [[full[c] for c in cols]] and isinstance(values[0], list)  # JSON: lists
    assert row_values(change, [full, lacking])[1][-1] is None  # type: ignore[arg-type]
    sites = PersonSite.__table__
    pair = {"extra": 1, "site_code": "DN-A", "person_id": "p1"}
    assert row_values(sites, [pair]) == [("p1", "DN-A")]  # type: ignore[arg-type]
    assert row_values(sites, [{"person_id": "p1"}]) == [["p1", None]]  # type: ignore[arg-type]
    with db.write() as s:
        insert_rows(s, change, [full, lacking])  # type: ignore[arg-type]
        insert_rows(s, sites, [{"person_id": "p1", "site_code": "DN-A"}, {"site_code": "DN-B", "person_id": "p1"}])  # type: ignore[arg-type]
    with db.read() as s:
        got = s.execute(
            text("SELECT server_seq, echo_for, CAST(data AS TEXT) FROM change_log WHERE server_seq > :q ORDER BY 1"),
            {"q": 10**12},
        ).all()
        pairs = s.execute(text("SELECT person_id, site_code FROM person_site WHERE person_id = 'p1' ORDER BY 2")).all()
    assert [(q, e) for q, e, _ in got] == [(10**12 + 1, "r:1"), (10**12 + 2, None)]
    assert got[0][2] == '{"a": [1, "\\u1ec5"]}' == json_text(full["data"])
    assert [tuple(p) for p in pairs] == [("p1", "DN-A"), ("p1", "DN-B")]


def _suspect_reference(body: bytes) -> bool:
    """``hub.middleware._suspect_json`` as first written (issue 15, phase 5), with what phase 8
    added: JSON's short escapes of two control characters, a number's exponent of three digits
    or more (a number: at the start or after ``:`` ``,`` ``[`` or JSON's whitespace, not text)."""
    markers = (b"\\u00", b"\\ud", b"\\uD", b"\\b", b"\\f", b"NaN", b"Infinity")
    digits = body.translate(bytes.maketrans(b"123456789", b"000000000"))
    big_exponent = re.search(rb"(?:^|[:,\[ \t\r\n])-?[0.]*0[eE]\+?000", digits) is not None
    return any(m in body for m in markers) or b"0" * 19 in digits or big_exponent


def test_quick_scan_answers_as_its_reference() -> None:
    rng = random.Random(15)
    pieces = [
        b'{"a":', b'"x"', b"\\", b"\\u", b"\\u00", b"\\ud8", b"\\uD8", b"\\n", b"NaN", b"Na", b"N", b"aN",
        b"Infinity", b"Infinit", b"I", b"nfinity", b"-Infinity", b"1" * 18, b"9" * 19, b"12345",
        "Nguyễn Ích".encode(), b" ", b",", b"}", b"0", b"e5", b"\\b", b"\\f", b"b", b"1e400", b"E+3", b"e-999",
        b"-", b".", b":", b"[", b"\n", b"\t", b"a", b"03e456", b'"', b"2.5", b"E+400",
    ]
    seen = {True: 0, False: 0}
    for _ in range(20_000):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        want = _suspect_reference(body)
        assert _suspect_json(body) is want, body
        seen[want] += 1
    assert min(seen.values()) > 2_000


def test_ids_and_digests_in_text_do_not_take_the_full_walk_but_a_huge_exponent_does() -> None:
    """Hex text such as ``"…-03e412…"`` is in every push (its ids): only a number's exponent counts.

    Stop 25's first version sent every real push body to ``check_safe``'s walk for them.
    """
    rng = random.Random(25)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(2_000)]
    doc = {"ops": [{"op_id": i, "ref": i.upper(), "volume_ml": 0.5, "n": 12} for i in ids]}
    body = json.dumps(doc).encode()
    assert re.search(rb"[0-9][eE]\+?[0-9]{3}", body), "the sample has no look-alike"
    assert _suspect_json(body) is False
    for number in (b"1e400", b"-2E+999", b"9.5e0400", b"0.0E308"):
        for value in (number, b"[" + number + b"]", b"\n " + number):
            bad = body[:-3] + b', "x": ' + value + b"}]}"
            assert _suspect_json(bad) is True, bad[-30:]
        assert json.loads(bad)["ops"][-1]["x"] == float(number)
