"""Dashboard logins: committee users, lockout, server-side sessions, signed cookies.

Separate from station tokens on purpose: a committee member's password never
opens the sync API, and a station token never opens the dashboard.

* Passwords are argon2id hashes (``argon2-cffi``), verified outside any write
  transaction so a slow hash never holds the database's write lock.
* After :data:`MAX_FAILURES` wrong passwords in a row an account is locked for
  :data:`LOCK_MINUTES`; while locked even the right password is refused.
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
from sqlalchemy import delete, select, text, update

from hub.db import Database
from hub.errors import HubError
from hub.models import DashboardSession, DashboardUser
from hub.service import iso, parse_ts

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 12
MIN_PASSWORD_LEN = 10
MAX_PASSWORD_LEN = 256
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PROVINCE_RE = re.compile(r"^[0-9]{2}$")
AREA_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$")

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
    """``province:75`` or ``district:<area code>`` (the area code of ``site.area_code``)."""
    role, _, code = raw.strip().partition(":")
    code = code.strip()
    if role == "province" and PROVINCE_RE.match(code):
        return Scope("province", code)
    if role == "district" and AREA_RE.match(code):
        return Scope("district", code.upper())
    raise HubError(
        400,
        "dashboard.bad_scope",
        "scope: province:<2-digit code> or district:<area code, 1-16 of A-Z, 0-9, '-'>",
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
            failed_logins=0,
            created_at=iso(now),
        )
        s.add(user)
        s.flush()
        return int(user.id)


def list_users(db: Database) -> list[dict[str, object]]:
    with db.read() as s:
        rows = s.execute(select(DashboardUser).order_by(DashboardUser.username)).scalars()
        return [
            {
                "username": u.username,
                "scope": f"{u.role}:{u.scope_code}",
                "active": bool(u.active),
                "locked_until": u.locked_until,
                "last_login_at": u.last_login_at,
            }
            for u in rows
        ]


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


def login(db: Database, username: str, password: str, *, now: datetime) -> tuple[Outcome, int]:
    """Check a login; returns the outcome and the user id (0 unless ``ok``)."""
    username = username.strip().lower()
    user = None
    if USERNAME_RE.match(username):  # junk (NUL, surrogates) never reaches the database
        with db.read() as s:
            user = s.execute(
                select(DashboardUser).where(DashboardUser.username == username)
            ).scalar()
    if user is None or not user.active:
        _burn_time(password)
        return "bad", 0
    locked = parse_ts(user.locked_until) if user.locked_until else None
    if locked is not None and locked > now:
        return "locked", 0
    if not _verify(user.password_hash, password):
        with db.write() as s:
            # Atomic increment: two concurrent guesses both count.
            s.execute(
                update(DashboardUser)
                .where(DashboardUser.id == user.id)
                .values(failed_logins=DashboardUser.failed_logins + 1)
            )
            row = s.get(DashboardUser, user.id)
            assert row is not None
            if row.failed_logins >= MAX_FAILURES:
                row.failed_logins = 0
                row.locked_until = iso(now + timedelta(minutes=LOCK_MINUTES))
                log.warning(
                    "dashboard user %d locked for %d min after %d failed logins",
                    user.id,
                    LOCK_MINUTES,
                    MAX_FAILURES,
                )
                return "locked", 0
        return "bad", 0
    with db.write() as s:
        row = s.get(DashboardUser, user.id)
        assert row is not None
        row.failed_logins = 0
        row.locked_until = None
        row.last_login_at = iso(now)
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
    log.info("dashboard user %d logged in", user.id)
    return "ok", int(user.id)


def _session_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_session(db: Database, user_id: int, *, now: datetime) -> str:
    raw = secrets.token_urlsafe(32)
    with db.write() as s:
        # Housekeeping on login, so expired rows never pile up.
        s.execute(delete(DashboardSession).where(DashboardSession.expires_at < iso(now)))
        s.add(
            DashboardSession(
                id_hash=_session_hash(raw),
                user_id=user_id,
                created_at=iso(now),
                expires_at=iso(now + timedelta(hours=SESSION_HOURS)),
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
        role: Role = "province" if user.role == "province" else "district"
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
