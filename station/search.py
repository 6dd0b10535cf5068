"""Type-ahead search over folded names, phones and ID numbers; duplicate suggestions.

Names are matched through the FTS5 index of the folded shadow column (tokens in
any order, each a prefix). When that finds only a few people, one typo per word is
forgiven ("ngyen van an", "nguyen vn an"): each folded token is widened to the
indexed words one edit away (insert, delete, substitute, swap), found through a
delete-neighbourhood map of the FTS vocabulary, and those hits rank below every
exact one. Digits are matched against the phone and ID number B-tree indexes by
prefix, and by tail ("…678", the tails the UI shows) through the expression
indexes on their last 3 digits. Folding loses distinctions (Đoàn and Doãn both
fold to "doan"), so every hit carries date of birth, ID tail and last dose.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import unicodedata

from sqlalchemy import Connection, RowMapping, text

from kernel.rules import vietnam as vn
from station.dto import DuplicateCandidate, LastDose, PersonHit, PersonInput
from station.store import Station

# FTS5 returns matches in rowid order; we rank a bounded window of them in Python
# so a one-letter query on 300,000 people stays instant.
CANDIDATE_WINDOW = 200
_DIGITS = re.compile(r"^[\d\s.+-]+$")
# "…678", "...678", "*678": a tail, as the UI prints it.
_TAIL = re.compile(r"^\s*(?:…|\.{2,}|\*)\s*([\d\s.]+)$")
_TOKEN_OK = re.compile(r"^[a-z0-9]+$")
# Fuzzy hits rank below every exact hit: exact scores stay well under this.
FUZZY_PENALTY = 100.0
FUZZY_BELOW = 5  # look for typos only when the exact search finds fewer people than this
MAX_VARIANTS = 12  # per token, the closest first: each is one more posting list to merge
VOCAB_TTL_S = 300.0
TAIL_MAX_DIGITS = 6  # plain digits up to this long are looked up as tails too
TAIL_WINDOW = 60  # tail rows read per column: a short tail matches hundreds; type one more digit


def _hits(conn: Connection, rows: list[RowMapping], scores: dict[str, float], match: str) -> list[PersonHit]:
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


def _rank_names(rows: list[RowMapping], tokens: list[str], marked: set[str]) -> dict[str, float]:
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
    """Ranked people matching ``query``: name tokens (a typo forgiven), a phone or an ID
    number (prefix or tail)."""
    q = (query or "").strip()
    if not q or len(q) > 100:
        return []
    with st.read() as conn:
        tail = _TAIL.match(q)
        if tail:
            digits = re.sub(r"\D", "", tail.group(1))
            return _search_tail(conn, digits, limit) if len(digits) >= 3 else []
        if _DIGITS.match(q):
            digits = re.sub(r"\D", "", q)
            if len(digits) < 3:
                return []
            return _search_digits(conn, digits, limit)
        tokens = [t for t in vn.fold_tokens(q) if _TOKEN_OK.match(t)][:6]
        if not tokens:
            return []
        fts = " AND ".join(f'"{t}"*' for t in tokens)
        rows = list(_name_rows(conn, fts))
        raw_words = set(unicodedata.normalize("NFC", q).lower().split())
        marked = {w for w in raw_words if vn.fold(w) != w}
        scores = _rank_names(rows, tokens, marked)
        ranked = sorted(rows, key=lambda r: (-scores[r["id"]], vn.given_name_sort_key(r["full_name"]), r["birth"]))
        hits = ranked[:limit]
        if len(hits) < FUZZY_BELOW:
            hits += _fuzzy_rows(st, conn, tokens, {r["id"] for r in rows}, limit - len(hits), scores)
        return _hits(conn, hits, scores, "name")


def _name_rows(conn: Connection, fts: str) -> list[RowMapping]:
    return list(conn.execute(
        text(
            f"{_PERSON_SELECT} JOIN (SELECT rowid AS r FROM person_fts WHERE person_fts MATCH :q "
            "LIMIT :w) m ON p.rid = m.r WHERE p.status = 'active'"
        ),
        {"q": fts, "w": CANDIDATE_WINDOW},
    ).mappings().all())


# ---- one typo per word ----------------------------------------------------------------


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance ≤ 1 (insert, delete, substitute or swap two neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


class _Vocabulary:
    """The FTS index's words and their one-deletion neighbourhoods (symmetric delete).

    A word w is one edit from t iff they share a key in {x} ∪ deletes(x) (then checked
    exactly): one dict look-up per deletion of the query token, whatever the
    vocabulary's size. Rebuilt when people were added, and every few minutes (a
    renamed person), on the thread that asks.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_station: dict[int, tuple[tuple[object, ...], float, tuple[dict[str, list[str]], list[str]]]] = {}

    def has_prefix(self, st: Station, conn: Connection, token: str) -> bool:
        """Some indexed word starts with ``token`` (then it is no typo, only unfinished)."""
        words = self._index(st, conn)[1]
        i = bisect.bisect_left(words, token)
        return i < len(words) and words[i].startswith(token)

    def neighbours(self, st: Station, conn: Connection, token: str) -> list[str]:
        index = self._index(st, conn)[0]
        found: set[str] = set()
        for key in (token, *_deletes(token)):
            for word in index.get(key, ()):
                if word != token and within_one_edit(token, word):
                    found.add(word)
        return sorted(found, key=lambda w: (abs(len(w) - len(token)), w))[:MAX_VARIANTS]

    def _index(self, st: Station, conn: Connection) -> tuple[dict[str, list[str]], list[str]]:
        stamp = conn.execute(text("SELECT max(rid) FROM person")).one()  # the rowid: instant
        key = id(st)
        with self._lock:
            cached = self._by_station.get(key)
            if cached is not None and cached[0] == tuple(stamp) and time.monotonic() - cached[1] < VOCAB_TTL_S:
                return cached[2]
        conn.execute(text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.person_fts_words USING fts5vocab(main, person_fts, row)"))
        index: dict[str, list[str]] = {}
        words = sorted(str(w) for (w,) in conn.execute(text("SELECT term FROM temp.person_fts_words")))
        for word in words:
            for k in (word, *_deletes(word)):
                index.setdefault(k, []).append(word)
        built = (index, words)
        with self._lock:
            self._by_station[key] = (tuple(stamp), time.monotonic(), built)
        return built


VOCABULARY = _Vocabulary()


def _fuzzy_rows(
    st: Station, conn: Connection, tokens: list[str], seen: set[str], want: int, scores: dict[str, float]
) -> list[RowMapping]:
    """People whose folded name matches every token, at most one edit away each; ranked
    below the exact hits (``FUZZY_PENALTY``), closer matches (more exact tokens) first."""
    # A token that starts some indexed word is only unfinished, not mistyped: widen the
    # others (few, specific words: a fast query). When every token starts a word yet
    # together they find nobody, any of them may be the typo: widen them all.
    bad = [t for t in tokens if not VOCABULARY.has_prefix(st, conn, t)]
    widen = set(bad or [t for t in tokens if len(t) >= 3])  # "an", "vy": too many neighbours
    variants = [VOCABULARY.neighbours(st, conn, t) if len(t) >= 2 and t in widen else [] for t in tokens]
    if not any(variants):
        return []
    groups = []
    for t, vs in zip(tokens, variants, strict=True):
        terms = [f'"{t}"*', *(f'"{v}"' for v in vs)]
        groups.append("(" + " OR ".join(terms) + ")")
    rows = [r for r in _name_rows(conn, " AND ".join(groups)) if r["id"] not in seen]
    for r in rows:
        words = r["name_fold"].split()
        exact = sum(1 for t in tokens if any(w.startswith(t) for w in words))
        scores[r["id"]] = exact + _rank_names([r], tokens, set())[r["id"]] * 0.01 - FUZZY_PENALTY
    rows.sort(key=lambda r: (-scores[r["id"]], vn.given_name_sort_key(r["full_name"]), r["birth"]))
    return rows[:want]


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
    rows = list(rows)
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
    if len(digits) <= TAIL_MAX_DIGITS:
        # A few digits are as likely the tail the UI shows ("…5678") as a number's start:
        # tails rank above prefixes (thousands of phones start with "0912").
        for r in _tail_rows(conn, digits):
            if r["id"] not in scores:
                rows.append(r)
            scores[r["id"]] = max(scores.get(r["id"], 0.0), 2.5)
    ranked = sorted(rows, key=lambda r: (-scores[r["id"]], r["name_fold"]))
    match = "id" if any(r["id_number"] and r["id_number"].startswith(digits) for r in ranked[:1]) else "phone"
    return _hits(conn, list(ranked[:limit]), scores, match)


def _search_tail(conn: Connection, digits: str, limit: int) -> list[PersonHit]:
    """People whose ID number or phone ends with ``digits`` (at least 3): "…678"."""
    rows = _tail_rows(conn, digits)
    scores = {r["id"]: 2.0 if (r["id_number"] or "").endswith(digits) else 1.0 for r in rows}
    ranked = sorted(rows, key=lambda r: (-scores[r["id"]], r["name_fold"]))
    match = "id" if ranked and scores[ranked[0]["id"]] == 2.0 else "phone"
    return _hits(conn, list(ranked[:limit]), scores, match)


def _tail_rows(conn: Connection, digits: str, limit: int = TAIL_WINDOW) -> list[RowMapping]:
    # The indexes hold (last 3 digits, number): the LIKE is checked in the index and only
    # ``limit`` rows per column are read; three digits match ~1 person in 1,000.
    last3 = digits[-3:]
    return list(conn.execute(
        text(
            f"{_PERSON_SELECT} WHERE p.status = 'active' AND p.rid IN ("
            "SELECT rid FROM (SELECT rid FROM person WHERE substr(id_number, -3) = :t3 "
            "AND id_number LIKE :pat LIMIT :n) "
            "UNION SELECT rid FROM (SELECT rid FROM person WHERE substr(phone, -3) = :t3 "
            "AND phone LIKE :pat LIMIT :n))"
        ),
        {"t3": last3, "pat": f"%{digits}", "n": limit},
    ).mappings().all())


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
