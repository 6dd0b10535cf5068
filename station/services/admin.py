"""Lots, users and logging in."""

from __future__ import annotations

import re
import threading
import time
from datetime import date
from typing import TypedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import text

from kernel import refdata
from kernel.errors import DomainError, FieldIssue, NotFound, ValidationError
from kernel.ids import natural_id
from kernel.ops import LotP, UserP, build, wire
from kernel.roles import ROLES, require
from kernel.rules import vietnam as vn
from station import stock
from station.dto import LotDTO, LotInput, UserDTO, UserInput
from station.services.common import check_text
from station.store import Actor, Station, UnitOfWork

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
LOT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{1,31}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128
MAX_FAILURES = 5
LOCKOUT_S = 60.0
# A dummy hash so an unknown username costs the same time as a wrong password.
_dummy_hash: str | None = None


def _dummy() -> str:
    """Made on first use, not at import: every ``tramtiem`` command imports this module."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password")
    return _dummy_hash


# ---- lots --------------------------------------------------------------------------


def upsert_lot(st: Station, actor: Actor, data: LotInput) -> LotDTO:
    """Add a lot received at this site, or update one (expiry, count, active)."""
    require(actor.role, "manage_lots")
    with st.unit_of_work(actor) as uow:
        vaccine_code, lot_number, expiry, received, count = _checked_lot(data, uow.today)
        row: LotRow = {
            "site_code": actor.site_code,
            "vaccine_code": vaccine_code,
            "lot_number": lot_number,
            "expiry": expiry.iso(),
            "doses_received": count,
            "received_on": received.iso(),
            "active": 1 if data.active else 0,
            "updated_at": uow.now_iso,
        }
        lot_id = _insert_lot(uow, row) if data.id is None else _update_lot(uow, data.id, row)
    return next(lot for lot in list_lots(st, include_inactive=True) if lot.id == lot_id)


class LotRow(TypedDict):
    """The ``vaccine_lot`` columns a lot form writes (the id, version and stock are the store's)."""

    site_code: str
    vaccine_code: str
    lot_number: str
    expiry: str
    doses_received: int
    received_on: str
    active: int
    updated_at: str


def _checked_lot(data: LotInput, today: date) -> tuple[str, str, vn.PartialDate, vn.PartialDate, int]:
    """The lot's vaccine, number, expiry, day received and dose count, checked (every issue at once)."""
    issues: list[FieldIssue] = []
    if not data.vaccine_code or data.vaccine_code not in refdata.vaccines():
        issues.append(FieldIssue("vaccine_code", "vaccine_code.unknown"))
    elif refdata.vaccine(data.vaccine_code).lot_product:
        # Moderna 6-11 is a half dose from Moderna vials: its lots are Moderna lots.
        issues.append(
            FieldIssue(
                "vaccine_code",
                "vaccine_code.no_own_lots",
                {"lot_product": refdata.vaccine(data.vaccine_code).lot_product},
            )
        )
    lot_number = (data.lot_number or "").strip().upper()
    if not lot_number:
        issues.append(FieldIssue("lot_number", "lot_number.required"))
    elif len(lot_number) > 32:
        issues.append(FieldIssue("lot_number", "lot_number.too_long", {"max": 32}))
    elif not LOT_RE.match(lot_number):
        issues.append(FieldIssue("lot_number", "lot_number.invalid_chars"))
    expiry, iss = vn.parse_date(data.expiry, field="expiry", today=today, allow_future=True, min_year=2020)
    issues += iss
    received, iss = vn.parse_date(
        data.received_on or today.isoformat(), field="received_on", today=today, min_year=2020
    )
    issues += iss
    try:
        count = int(str(data.doses_received).strip()) if data.doses_received is not None else None
    except ValueError:
        count = None
        issues.append(FieldIssue("doses_received", "doses_received.invalid"))
    else:
        if count is None:
            issues.append(FieldIssue("doses_received", "doses_received.required"))
        elif not 1 <= count <= 1_000_000:
            issues.append(FieldIssue("doses_received", "doses_received.range", {"min": 1, "max": 1_000_000}))
    errors = [i for i in issues if i.is_error]
    if not errors and expiry is not None:
        exp_day = expiry.as_date()
        if exp_day is None:
            errors.append(FieldIssue("expiry", "date.format"))
        elif exp_day < today and data.id is None:
            errors.append(FieldIssue("expiry", "lot.expired"))
    if errors:
        raise ValidationError(errors)
    assert data.vaccine_code and expiry is not None and received is not None and count is not None
    return data.vaccine_code, lot_number, expiry, received, count


def _insert_lot(uow: UnitOfWork, row: LotRow) -> str:
    actor = uow.actor
    lot_number = row["lot_number"]
    clash = uow.conn.execute(
        text(
            "SELECT id FROM vaccine_lot WHERE site_code = :s AND vaccine_code = :v "
            "AND lot_number = :n"
        ),
        {"s": actor.site_code, "v": row["vaccine_code"], "n": lot_number},
    ).scalar()
    if clash:
        raise DomainError("lot.exists", lot_id=clash)
    lot_id = natural_id("lot", actor.site_code, str(row["vaccine_code"]), lot_number)
    uow.emit("upsert_lot", "vaccine_lot", lot_id, _lot_payload(row, lot_id))
    uow.conn.execute(
        text(
            "INSERT INTO vaccine_lot (id, site_code, vaccine_code, lot_number, expiry, "
            "doses_received, received_on, active, version, updated_at) VALUES (:id, "
            ":site_code, :vaccine_code, :lot_number, :expiry, :doses_received, "
            ":received_on, :active, 0, :updated_at)"
        ),
        {**row, "id": lot_id},
    )
    return lot_id


def _update_lot(uow: UnitOfWork, lot_id: str, row: LotRow) -> str:
    actor = uow.actor
    old = uow.conn.execute(
        text("SELECT version, site_code FROM vaccine_lot WHERE id = :i"), {"i": lot_id}
    ).first()
    if old is None or old[1] != actor.site_code:
        raise NotFound("lot.not_found")
    uow.emit("upsert_lot", "vaccine_lot", lot_id, _lot_payload(row, lot_id), base_version=old[0])
    uow.conn.execute(
        text(
            "UPDATE vaccine_lot SET vaccine_code = :vaccine_code, lot_number = :lot_number, "
            "expiry = :expiry, doses_received = :doses_received, received_on = :received_on, "
            "active = :active, updated_at = :updated_at WHERE id = :id"
        ),
        {**row, "id": lot_id},
    )
    return lot_id


def _lot_payload(row: LotRow, lot_id: str) -> dict[str, object]:
    return wire(build(LotP, **row, id=lot_id))


def list_lots(st: Station, *, include_inactive: bool = False, usable_on: date | None = None) -> list[LotDTO]:
    sql = (
        "SELECT l.id, l.site_code, l.vaccine_code, l.lot_number, l.expiry, l.doses_received, "
        "l.received_on, l.active FROM vaccine_lot l WHERE l.site_code = :s"
    )
    params: dict[str, object] = {"s": st.site_code}
    if not include_inactive:
        sql += " AND l.active = 1"
    if usable_on is not None:
        sql += " AND l.expiry >= :d"
        params["d"] = usable_on.isoformat()
    sql += " ORDER BY l.vaccine_code, l.expiry, l.lot_number"
    with st.read() as conn:
        rows = conn.execute(text(sql), params).all()
        used = stock.lot_usage(conn, st.site_code)
    return [
        LotDTO(r[0], r[1], r[2], r[3], r[4], int(r[5]), used.get(r[0], 0.0), r[6], bool(r[7]))
        for r in rows
    ]


# ---- users -------------------------------------------------------------------------


def _check_password(raw: str | None) -> list[FieldIssue]:
    if not raw:
        return [FieldIssue("password", "password.required")]
    if len(raw) < PASSWORD_MIN:
        return [FieldIssue("password", "password.too_short", {"min": PASSWORD_MIN})]
    if len(raw) > PASSWORD_MAX:
        return [FieldIssue("password", "password.too_long", {"max": PASSWORD_MAX})]
    return []


def _require_role_change(actor: Actor, role: str) -> None:
    require(actor.role, "manage_staff")
    if role in ("admin", "supervisor"):
        require(actor.role, "manage_admins")


def _check_user_fields(data: UserInput) -> tuple[str, str | None, list[FieldIssue]]:
    """Username, display name and role of a new user (the password is checked apart)."""
    issues: list[FieldIssue] = []
    username = (data.username or "").strip().lower()
    if not username:
        issues.append(FieldIssue("username", "username.required"))
    elif not USERNAME_RE.match(username):
        issues.append(FieldIssue("username", "username.invalid"))
    display, iss = check_text(data.display_name, field="display_name", max_len=100, required=True, min_len=2)
    issues += iss
    if data.role not in ROLES:
        issues.append(FieldIssue("role", "role.invalid", {"allowed": list(ROLES)}))
    return username, display, issues


def create_user(st: Station, actor: Actor, data: UserInput) -> UserDTO:
    """Create a login for this site. Admins may create any role; supervisors staff roles."""
    username, display, issues = _check_user_fields(data)
    issues += _check_password(data.password)
    if issues:
        raise ValidationError(issues)
    assert data.role is not None and data.password is not None and display is not None
    _require_role_change(actor, data.role)
    return _insert_user(st, actor, username, display, data.role, _hasher.hash(data.password))


def create_user_with_hash(
    st: Station, actor: Actor, data: UserInput, password_hash: str
) -> UserDTO:
    """Create a login from an argon2 hash made elsewhere (a provisioning file).

    Setting up a dozen laptops from one file must not put a plaintext password
    in that file: IT staff hash it once (``tramtiem provision --hash-password``).
    ``data.password`` is ignored.
    """
    username, display, issues = _check_user_fields(data)
    if not password_hash.startswith("$argon2") or len(password_hash) > 512:
        issues.append(FieldIssue("password_hash", "password_hash.invalid"))
    if issues:
        raise ValidationError(issues)
    assert data.role is not None and display is not None
    _require_role_change(actor, data.role)
    return _insert_user(st, actor, username, display, data.role, password_hash)


def hash_password(password: str) -> str:
    """An argon2id hash with the station's parameters (for provisioning files)."""
    issues = _check_password(password)
    if issues:
        raise ValidationError(issues)
    return _hasher.hash(password)


def _insert_user(
    st: Station, actor: Actor, username: str, display: str, role: str, pw_hash: str
) -> UserDTO:
    with st.unit_of_work(actor) as uow:
        clash = uow.conn.execute(
            text("SELECT 1 FROM app_user WHERE site_code = :s AND username = :u"),
            {"s": actor.site_code, "u": username},
        ).scalar()
        if clash:
            raise ValidationError([FieldIssue("username", "username.taken")])
        uid = natural_id("user", actor.site_code, username)
        row = {
            "id": uid,
            "site_code": actor.site_code,
            "username": username,
            "display_name": display,
            "role": role,
            "password_hash": pw_hash,
            "active": 1,
            "created_at": uow.now_iso,
            "updated_at": uow.now_iso,
        }
        uow.emit("upsert_user", "app_user", uid, wire(build(UserP, **row)))
        uow.conn.execute(
            text(
                "INSERT INTO app_user (id, site_code, username, display_name, role, password_hash, "
                "active, version, created_at, updated_at) VALUES (:id, :site_code, :username, "
                ":display_name, :role, :password_hash, :active, 0, :created_at, :updated_at)"
            ),
            row,
        )
    return UserDTO(uid, username, display, role, True)


def _load_user(conn: object, user_id: str) -> dict[str, object]:
    from sqlalchemy import Connection

    assert isinstance(conn, Connection)
    row = conn.execute(
        text("SELECT id, site_code, username, display_name, role, password_hash, active, version FROM app_user WHERE id = :i"),
        {"i": user_id},
    ).mappings().first()
    if row is None:
        raise NotFound("user.not_found")
    return dict(row)


def set_user_active(st: Station, actor: Actor, user_id: str, active: bool) -> UserDTO:
    with st.unit_of_work(actor) as uow:
        user = _load_user(uow.conn, user_id)
        _require_role_change(actor, str(user["role"]))
        if user_id == actor.user_id and not active:
            raise DomainError("user.cannot_deactivate_self")
        row = {k: user[k] for k in ("id", "site_code", "username", "display_name", "role", "password_hash")}
        row |= {"active": 1 if active else 0, "updated_at": uow.now_iso}
        uow.emit("upsert_user", "app_user", user_id, wire(build(UserP, **row)), base_version=int(str(user["version"])))
        uow.conn.execute(
            text("UPDATE app_user SET active = :a, updated_at = :t WHERE id = :i"),
            {"a": row["active"], "t": uow.now_iso, "i": user_id},
        )
    return UserDTO(user_id, str(user["username"]), str(user["display_name"]), str(user["role"]), active)


def change_password(
    st: Station, actor: Actor, user_id: str, new_password: str, *, old_password: str | None = None
) -> None:
    """Users change their own password (old one required); managers reset others'."""
    issues = _check_password(new_password)
    if issues:
        raise ValidationError(issues)
    pw_hash = _hasher.hash(new_password)
    with st.unit_of_work(actor) as uow:
        user = _load_user(uow.conn, user_id)
        if user_id == actor.user_id:
            try:
                _hasher.verify(str(user["password_hash"]), old_password or "")
            except (VerificationError, InvalidHashError):
                raise ValidationError([FieldIssue("old_password", "password.wrong")]) from None
        else:
            _require_role_change(actor, str(user["role"]))
        row = {k: user[k] for k in ("id", "site_code", "username", "display_name", "role", "active")}
        row |= {"password_hash": pw_hash, "updated_at": uow.now_iso}
        uow.emit("upsert_user", "app_user", user_id, wire(build(UserP, **row)), base_version=int(str(user["version"])))
        uow.conn.execute(
            text("UPDATE app_user SET password_hash = :h, updated_at = :t WHERE id = :i"),
            {"h": pw_hash, "t": uow.now_iso, "i": user_id},
        )


def list_users(st: Station, *, include_inactive: bool = True) -> list[UserDTO]:
    sql = "SELECT id, username, display_name, role, active FROM app_user WHERE site_code = :s"
    if not include_inactive:
        sql += " AND active = 1"
    with st.read() as conn:
        rows = conn.execute(text(sql + " ORDER BY username"), {"s": st.site_code}).all()
    return [UserDTO(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]


# ---- login -------------------------------------------------------------------------

_failures: dict[tuple[str, str], tuple[int, float]] = {}
_failures_lock = threading.Lock()


def login(st: Station, username: str | None, password: str | None) -> Actor:
    """Offline login against the site's synced users. One error code for every failure."""
    name = (username or "").strip().lower()
    key = (st.install_id, name)
    with _failures_lock:
        count, since = _failures.get(key, (0, 0.0))
        if count >= MAX_FAILURES and time.monotonic() - since < LOCKOUT_S:
            raise DomainError("login.locked", seconds=int(LOCKOUT_S - (time.monotonic() - since)))
    with st.read() as conn:
        row = conn.execute(
            text(
                "SELECT id, username, display_name, role, password_hash, active FROM app_user "
                "WHERE site_code = :s AND username = :u"
            ),
            {"s": st.site_code, "u": name},
        ).first()
    ok = False
    try:
        _hasher.verify(row[4] if row else _dummy(), password or "")
        ok = row is not None and bool(row[5])
    except (VerificationError, InvalidHashError):
        ok = False
    system = Actor.system(st.site_code)
    if not ok or row is None:
        with _failures_lock:
            c, _s = _failures.get(key, (0, 0.0))
            _failures[key] = (c + 1, time.monotonic())
        with st.unit_of_work(system, min_ops=0) as uow:
            uow.audit("login_failed", "app_user", row[0] if row else None)
        raise DomainError("login.failed")
    with _failures_lock:
        _failures.pop(key, None)
    actor = Actor(user_id=row[0], username=row[1], role=row[3], site_code=st.site_code, display_name=row[2])
    with st.unit_of_work(actor, min_ops=0) as uow:
        uow.audit("login", "app_user", row[0])
    return actor


