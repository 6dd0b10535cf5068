"""Type-ahead search over folded names, phones and ID numbers; duplicate suggestions.

Names are matched through the FTS5 index of the folded shadow column (tokens in
any order, each a prefix). Digits are matched against the phone and ID number
B-tree indexes by prefix. Folding loses distinctions (Đoàn and Doãn both fold to
"doan"), so every hit carries date of birth, ID tail and last dose.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import Connection, text

from station.dto import DuplicateCandidate, LastDose, PersonHit, PersonInput
from station.rules import vietnam as vn
from station.store import Station

# FTS5 returns matches in rowid order; we rank a bounded window of them in Python
# so a one-letter query on 300,000 people stays instant.
CANDIDATE_WINDOW = 200
_DIGITS = re.compile(r"^[\d\s.+-]+$")
_TOKEN_OK = re.compile(r"^[a-z0-9]+$")


def _hits(conn: Connection, rows: list[Any], scores: dict[str, float], match: str) -> list[PersonHit]:
    ids = [r["id"] for r in rows]
    last: dict[str, LastDose] = {}
    if ids:
        marks = ", ".join(f":p{i}" for i in range(len(ids)))
        params = {f"p{i}": pid for i, pid in enumerate(ids)}
        for d in conn.execute(
            text(
                "SELECT person_id, vaccine_code, dose_number, kind, day FROM dose "
                f"WHERE person_id IN ({marks}) AND voided = 0 ORDER BY administered_at"
            ),
            params,
        ):
            last[d[0]] = LastDose(d[1], d[2], d[3], d[4])
    out = []
    for r in rows:
        out.append(
            PersonHit(
                person_id=r["id"],
                full_name=r["full_name"],
                birth_display=vn.PartialDate.from_iso(r["birth"]).display(),
                sex=r["sex"],
                id_tail=vn.id_tail(r["id_number"]),
                phone_tail=vn.id_tail(r["phone"], 3),
                last_dose=last.get(r["id"]),
                score=scores.get(r["id"], 0.0),
                match=match,
            )
        )
    return out


_PERSON_SELECT = (
    "SELECT p.id, p.full_name, p.name_fold, p.birth, p.sex, p.id_number, p.phone FROM person p"
)


def _rank_names(rows: list[Any], tokens: list[str], marked: set[str]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for r in rows:
        words = r["name_fold"].split()
        score = 0.0
        if marked:
            # Typed with diacritics: "Đoàn" should come before "Doãn".
            exact = set(unicodedata.normalize("NFC", r["full_name"]).lower().split())
            score += 0.5 * len(marked & exact)
        for t in tokens:
            if t in words:
                score += 2.0  # a whole word beats a prefix
            elif any(w.startswith(t) for w in words):
                score += 1.0
        if words and tokens and words[-1].startswith(tokens[-1]):
            score += 0.5  # the given name (last word) is what people say first
        if words[: len(tokens)] == tokens:
            score += 0.25  # typed in written order
        scores[r["id"]] = score
    return scores


def search(st: Station, query: str, *, limit: int = 20) -> list[PersonHit]:
    """Ranked people matching ``query``: name tokens, a phone or an ID number (prefixes)."""
    q = (query or "").strip()
    if not q or len(q) > 100:
        return []
    with st.read() as conn:
        if _DIGITS.match(q):
            digits = re.sub(r"\D", "", q)
            if len(digits) < 3:
                return []
            return _search_digits(conn, digits, limit)
        tokens = [t for t in vn.fold_tokens(q) if _TOKEN_OK.match(t)][:6]
        if not tokens:
            return []
        fts = " AND ".join(f'"{t}"*' for t in tokens)
        rows = conn.execute(
            text(
                f"{_PERSON_SELECT} JOIN (SELECT rowid AS r FROM person_fts WHERE person_fts MATCH :q "
                "LIMIT :w) m ON p.rid = m.r WHERE p.status = 'active'"
            ),
            {"q": fts, "w": CANDIDATE_WINDOW},
        ).mappings().all()
        raw_words = set(unicodedata.normalize("NFC", q).lower().split())
        marked = {w for w in raw_words if vn.fold(w) != w}
        scores = _rank_names(list(rows), tokens, marked)
        ranked = sorted(rows, key=lambda r: (-scores[r["id"]], vn.given_name_sort_key(r["full_name"]), r["birth"]))
        return _hits(conn, list(ranked[:limit]), scores, "name")


def _search_digits(conn: Connection, digits: str, limit: int) -> list[PersonHit]:
    phone = digits
    if digits.startswith("84") and len(digits) >= 11:
        phone = "0" + digits[2:]
    hi = phone + ":"  # ':' sorts right after '9': a prefix range on the index
    rows = conn.execute(
        text(
            f"{_PERSON_SELECT} WHERE p.status = 'active' AND p.id IN ("
            "SELECT id FROM person WHERE id_number >= :lo AND id_number < :hi "
            "UNION SELECT id FROM person WHERE phone >= :plo AND phone < :phi) LIMIT :w"
        ),
        {"lo": digits, "hi": digits + ":", "plo": phone, "phi": hi, "w": CANDIDATE_WINDOW},
    ).mappings().all()
    scores: dict[str, float] = {}
    for r in rows:
        s = 0.0
        if r["id_number"] == digits or r["phone"] == phone:
            s = 3.0
        elif r["id_number"] and r["id_number"].startswith(digits):
            s = 2.0
        else:
            s = 1.0
        scores[r["id"]] = s
    ranked = sorted(rows, key=lambda r: (-scores[r["id"]], r["name_fold"]))
    match = "id" if any(r["id_number"] and r["id_number"].startswith(digits) for r in ranked[:1]) else "phone"
    return _hits(conn, list(ranked[:limit]), scores, match)


def find_by_id_number(st: Station, id_number: str) -> PersonHit | None:
    """Exact lookup of a CCCD/CMND/passport number."""
    num = re.sub(r"\s", "", id_number or "").upper()
    if not num:
        return None
    with st.read() as conn:
        rows = conn.execute(
            text(f"{_PERSON_SELECT} WHERE p.id_number = :n AND p.status = 'active' LIMIT 1"), {"n": num}
        ).mappings().all()
        hits = _hits(conn, list(rows), {r["id"]: 3.0 for r in rows}, "id")
    return hits[0] if hits else None


def find_by_phone(st: Station, phone: str) -> list[PersonHit]:
    norm, issues = vn.check_phone(phone)
    if norm is None or any(i.is_error for i in issues):
        return []
    with st.read() as conn:
        rows = conn.execute(
            text(f"{_PERSON_SELECT} WHERE p.phone = :n AND p.status = 'active' LIMIT 50"), {"n": norm}
        ).mappings().all()
        return _hits(conn, list(rows), {r["id"]: 3.0 for r in rows}, "phone")


def find_duplicates(st: Station, data: PersonInput) -> list[DuplicateCandidate]:
    """Before saving a new person: same ID → that person; same folded name + birth (+ phone) → candidates."""
    out: list[DuplicateCandidate] = []
    seen: set[str] = set()
    if data.id_number and data.id_type != "none":
        hit = find_by_id_number(st, data.id_number)
        if hit:
            out.append(DuplicateCandidate(hit.person_id, "same_id", hit))
            seen.add(hit.person_id)
    name_fold = vn.fold(data.full_name or "")
    birth, _ = vn.parse_date(data.birth, field="birth", today=st.today(), allow_year_only=True)
    if not name_fold or birth is None:
        return out
    phone, _ = vn.check_phone(data.phone)
    with st.read() as conn:
        rows = conn.execute(
            text(
                f"{_PERSON_SELECT} WHERE p.name_fold = :n AND p.birth = :b AND p.status = 'active' LIMIT 20"
            ),
            {"n": name_fold, "b": birth.iso()},
        ).mappings().all()
        rows = [r for r in rows if r["id"] not in seen]
        hits = _hits(conn, list(rows), {}, "name")
    by_id = {r["id"]: r for r in rows}
    for h in hits:
        same_phone = phone is not None and by_id[h.person_id]["phone"] == phone
        reason = "same_name_birth_phone" if same_phone else "same_name_birth"
        out.append(DuplicateCandidate(h.person_id, reason, h))
    out.sort(key=lambda c: {"same_id": 0, "same_name_birth_phone": 1, "same_name_birth": 2}[c.reason])
    return out
