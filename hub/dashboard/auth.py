"""Dashboard logins: committee users, lockout, server-side sessions, signed cookies.

Separate from station tokens on purpose: a committee member's password never
opens the sync API, and a station token never opens the dashboard.

* Passwords are argon2id hashes (``argon2-cffi``), verified outside any write
  transaction so a slow hash never holds the database's write lock.
* After :data:`MAX_FAILURES` wrong passwords in a row a username is locked for
  :data:`LOCK_MINUTES`; while locked even the right password is refused. The
  count is kept per *typed* username (``login_guard``, keyed by an HMAC of it),
  known or not, so an unknown name answers exactly as a real one does (no user
  enumeration). Each attempt is counted *before* its password is checked, in a
  transaction holding the guard row's lock: concurrent guesses get at most
  :data:`MAX_FAILURES` password checks, never more.
* A session is a random id; the hub stores only its SHA-256, so a database
  dump opens no session. The cookie carries the id with an HMAC under the
  ``dashboard_secret`` kept in ``hub_meta`` (shared by every hub process).
* Logs name users by their numeric id, never by username (often a real name).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, text
from sqlalchemy.orm import Session

from hub.db import Database
from hub.errors import HubError
from hub.models import DashboardSession, DashboardUser, LoginGuard
from hub.timestamps import parse_ts, utc_iso_ms

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 12
MIN_PASSWORD_LEN = 10
MAX_PASSWORD_LEN = 256
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PROVINCE_RE = re.compile(r"^[0-9]{2}$")
AREA_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$")
SITE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")

# "site" is internal: the station API's own site summary uses the same numbers.
Role = Literal["province", "district", "site"]
Outcome = Literal["ok", "bad", "locked"]

_hasher = PasswordHasher()
_dummy_hash: str | None = None


@dataclass(frozen=True)
class Scope:
    """What a user may see: one province, or one area (commune/ward or former district)."""

    role: Role
    code: str

    def __str__(self) -> str:
        return f"{self.role}:{self.code}"


@dataclass(frozen=True)
class DashUser:
    id: int
    username: str
    scope: Scope


def parse_scope(raw: str) -> Scope:
    """``province:75``, ``district:<area code>`` (the area code of ``site.area_code``) or
    ``site:<site code>`` (a site hub's supervisor: the site hub holds one site)."""
    role, _, code = raw.strip().partition(":")
    code = code.strip()
    if role == "province" and PROVINCE_RE.match(code):
        return Scope("province", code)
    if role == "district" and AREA_RE.match(code):
        return Scope("district", code.upper())
    if role == "site" and SITE_RE.match(code):
        return Scope("site", code.upper())
    raise HubError(
        400,
        "dashboard.bad_scope",
        "scope: province:<2-digit code>, district:<area code, 1-16 of A-Z, 0-9, '-'> or site:<site code>",
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _burn_time(password: str) -> None:
    """Spend a hash's worth of time on unknown users, so timing does not reveal usernames."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_hex(8))
    _verify(_dummy_hash, password)


def check_new_password(password: str) -> None:
    if not MIN_PASSWORD_LEN <= len(password) <= MAX_PASSWORD_LEN:
        raise HubError(
            400,
            "dashboard.weak_password",
            f"the password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters",
        )


# ---- administration (CLI) ------------------------------------------------------------


def add_user(db: Database, username: str, password: str, scope: Scope, *, now: datetime) -> int:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise HubError(400, "dashboard.bad_username", "username: 2-64 of a-z, 0-9, '.', '_', '-'")
    check_new_password(password)
    hashed = hash_password(password)
    with db.write() as s:
        if s.execute(select(DashboardUser.id).where(DashboardUser.username == username)).scalar():
            raise HubError(409, "dashboard.user_exists", "a dashboard user with this name exists")
        user = DashboardUser(
            username=username,
            password_hash=hashed,
            role=scope.role,
            scope_code=scope.code,
            active=1,
            created_at=utc_iso_ms(now),
        )
        s.add(user)
        s.flush()
        return int(user.id)


def list_users(db: Database, *, now: datetime | None = None) -> list[dict[str, object]]:
    secret = load_secret(db)
    with db.read() as s:
        rows = list(s.execute(select(DashboardUser).order_by(DashboardUser.username)).scalars())
        guards = {
            g.key: g
            for g in s.execute(
                select(LoginGuard).where(
                    LoginGuard.key.in_([guard_key(secret, u.username) for u in rows])
                )
            ).scalars()
        }
    out: list[dict[str, object]] = []
    for u in rows:
        g = guards.get(guard_key(secret, u.username))
        until = parse_ts(g.locked_until) if g is not None and g.locked_until else None
        locked = until is not None and (now is None or until > now)
        out.append(
            {
                "username": u.username,
                "scope": f"{u.role}:{u.scope_code}",
                "active": bool(u.active),
                "locked_until": g.locked_until if g is not None and locked else None,
                "last_login_at": u.last_login_at,
            }
        )
    return out


def unlock_user(db: Database, username: str) -> None:
    """Lift a lockout at once (an administrator who has checked who is asking)."""
    key = guard_key(load_secret(db), _norm(username))
    with db.write() as s:
        s.execute(delete(LoginGuard).where(LoginGuard.key == key))


def disable_user(db: Database, username: str) -> None:
    """Deactivate a user and end their sessions at once."""
    with db.write() as s:
        user = s.execute(
            select(DashboardUser).where(DashboardUser.username == username.strip().lower())
        ).scalar()
        if user is None:
            raise HubError(404, "dashboard.user_not_found", "no such dashboard user")
        user.active = 0
        s.execute(delete(DashboardSession).where(DashboardSession.user_id == user.id))


# ---- login and sessions --------------------------------------------------------------


def _norm(username: str) -> str:
    return username.strip().lower()[:64]


def guard_key(secret: bytes, username: str) -> str:
    """The ``login_guard`` key of a typed username (an HMAC: never the name itself)."""
    return mac(secret, "login-guard", username)


def _reserve(db: Database, key: str, now: datetime) -> int | None:
    """Count one attempt for ``key`` before its password is checked: its number in the
    row of failures, or None while locked.

    One short write transaction holding the guard row's lock (``FOR UPDATE`` on
    PostgreSQL; SQLite's write lock), so two concurrent guesses cannot both read
    a count below the limit. The attempt that reaches :data:`MAX_FAILURES` sets
    the lock at once; a right password clears it again (:func:`_cleared`).
    """

    def run(s: Session) -> int | None:
        g = s.get(LoginGuard, key, with_for_update=True)
        if g is None:
            # A concurrent first attempt inserting the same key makes one of the two
            # fail on the primary key; run_write runs it again and it finds the row.
            g = LoginGuard(key=key, failures=0, locked_until=None, updated_at=utc_iso_ms(now))
            s.add(g)
        until = parse_ts(g.locked_until) if g.locked_until else None
        if until is not None and until > now:
            return None
        if g.locked_until is not None:  # the lock ran out: a fresh count
            g.failures = 0
            g.locked_until = None
        g.failures += 1
        if g.failures >= MAX_FAILURES:
            g.locked_until = utc_iso_ms(now + timedelta(minutes=LOCK_MINUTES))
        g.updated_at = utc_iso_ms(now)
        # Housekeeping: rows of names nobody tried for a day go (a flood of made-up
        # names cannot grow the table without bound).
        s.execute(
            delete(LoginGuard).where(
                LoginGuard.updated_at < utc_iso_ms(now - timedelta(days=1)),
                or_(LoginGuard.locked_until.is_(None), LoginGuard.locked_until < utc_iso_ms(now)),
            )
        )
        return g.failures

    return db.run_write(run)


def login(db: Database, username: str, password: str, *, now: datetime) -> tuple[Outcome, int]:
    """Check a login; returns the outcome and the user id (0 unless ``ok``).

    Unknown, disabled and existing users go through the same steps (the same
    count, the same lock, a password hash's worth of time), so the answers and
    their timing say nothing about which usernames exist.
    """
    username = _norm(username)
    key = guard_key(load_secret(db), username)
    attempt = _reserve(db, key, now)
    if attempt is None:
        return "locked", 0
    user = None
    if USERNAME_RE.match(username):  # junk (NUL, surrogates) never reaches the database
        with db.read() as s:
            user = s.execute(
                select(DashboardUser).where(DashboardUser.username == username)
            ).scalar()
    if user is None or not user.active:
        _burn_time(password)
        ok = False
    else:
        ok = _verify(user.password_hash, password)
    if not ok or user is None:
        if attempt >= MAX_FAILURES:  # this attempt was the last one allowed
            log.warning(
                "dashboard login locked for %d min after %d failed attempts",
                LOCK_MINUTES,
                MAX_FAILURES,
            )
            return "locked", 0
        return "bad", 0

    def cleared(s: Session) -> None:
        s.execute(delete(LoginGuard).where(LoginGuard.key == key))
        row = s.get(DashboardUser, user.id)
        assert row is not None
        row.last_login_at = utc_iso_ms(now)
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)

    db.run_write(cleared)
    log.info("dashboard user %d logged in", user.id)
    return "ok", int(user.id)


def _session_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_session(db: Database, user_id: int, *, now: datetime) -> str:
    raw = secrets.token_urlsafe(32)
    with db.write() as s:
        # Housekeeping on login, so expired rows never pile up.
        s.execute(delete(DashboardSession).where(DashboardSession.expires_at < utc_iso_ms(now)))
        s.add(
            DashboardSession(
                id_hash=_session_hash(raw),
                user_id=user_id,
                created_at=utc_iso_ms(now),
                expires_at=utc_iso_ms(now + timedelta(hours=SESSION_HOURS)),
            )
        )
    return raw


def session_user(db: Database, raw: str, *, now: datetime) -> DashUser | None:
    with db.read() as s:
        sess = s.get(DashboardSession, _session_hash(raw))
        if sess is None:
            return None
        expires = parse_ts(sess.expires_at)
        if expires is None or expires <= now:
            return None
        user = s.get(DashboardUser, sess.user_id)
        if user is None or not user.active:
            return None
        role: Role = "province" if user.role == "province" else ("site" if user.role == "site" else "district")
        return DashUser(int(user.id), user.username, Scope(role, user.scope_code))


def end_session(db: Database, raw: str) -> None:
    with db.write() as s:
        s.execute(delete(DashboardSession).where(DashboardSession.id_hash == _session_hash(raw)))


# ---- signing -------------------------------------------------------------------------


def load_secret(db: Database) -> bytes:
    with db.read() as s:
        value = s.execute(
            text("SELECT value FROM hub_meta WHERE key = 'dashboard_secret'")
        ).scalar_one()
    return bytes.fromhex(str(value))


def mac(secret: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for one ``purpose`` (a cookie MAC never validates a form)."""
    msg = f"{purpose}\x00{value}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def sign(secret: bytes, purpose: str, value: str) -> str:
    return f"{value}.{mac(secret, purpose, value)}"


def unsign(secret: bytes, purpose: str, token: str) -> str | None:
    value, dot, tag = token.rpartition(".")
    if not dot or not value:
        return None
    expected = mac(secret, purpose, value)
    if not hmac.compare_digest(expected.encode(), tag.encode("utf-8", "replace")):
        return None
    return value


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))
