"""Provisioning files: set up many laptops the same way (``tramtiem provision``, the wizard).

``provision.json``::

    {
      "format": 1,
      "hub_url": "https://hub.example.vn",
      "site_code": "DNA-BH-001",
      "station_letter": "A",
      "enrollment_code": "ABCD-EFGH-JKMN",
      "admin": {"username": "quantri", "display_name": "Quản trị viên",
                "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$…"}
    }

Only ``hub_url`` and ``site_code`` are required. Enrollment codes are one-time:
a file shared by several laptops leaves ``enrollment_code`` out and each laptop
gets its own (``--code``), as does its station letter (``--letter``). The
admin's password is never in the file in clear — only an argon2 hash
(``tramtiem provision --hash-password`` makes one) — so a copied file does not
give away a login.

Everything here works offline: the station is created locally with the site
code from the file; enrollment (which needs the hub) is a separate step.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from kernel.errors import FieldIssue, ValidationError
from station import replica
from station.dto import UserInput
from station.services import admin
from station.store import SITE_CODE_RE, Actor, Station, init_station, open_station

PROVISION_FORMAT = 1
HUB_URL_KEY = "hub_url"  # the same meta key as sync.cli.HUB_URL_KEY
_URL_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(?::\d{1,5})?(?:/[\w\-./]*)?$")


@dataclass(frozen=True, slots=True)
class AdminSpec:
    username: str
    display_name: str
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class Provision:
    hub_url: str
    site_code: str
    station_letter: str = "A"
    enrollment_code: str | None = None
    admin: AdminSpec | None = None


def parse(raw: object) -> Provision:
    """Validate a provisioning document; ``ValidationError`` names the bad fields."""
    issues: list[FieldIssue] = []
    if not isinstance(raw, dict):
        raise ValidationError([FieldIssue("provision", "provision.not_an_object")])
    if int(raw.get("format", PROVISION_FORMAT)) != PROVISION_FORMAT:
        issues.append(FieldIssue("format", "provision.unsupported_format"))
    hub = str(raw.get("hub_url") or "").strip().rstrip("/")
    if not _URL_RE.match(hub):
        issues.append(FieldIssue("hub_url", "hub_url.invalid"))
    site = str(raw.get("site_code") or "").strip().upper()
    if not SITE_CODE_RE.match(site):
        issues.append(FieldIssue("site_code", "site_code.invalid"))
    letter = str(raw.get("station_letter") or "A").strip().upper()
    if not re.fullmatch(r"[A-Z]", letter):
        issues.append(FieldIssue("station_letter", "station_letter.invalid"))
    code = raw.get("enrollment_code")
    spec: AdminSpec | None = None
    a = raw.get("admin")
    if a is not None:
        if not isinstance(a, dict):
            issues.append(FieldIssue("admin", "admin.invalid"))
        else:
            if "password" in a:
                # Refused outright: a plaintext password in a file copied to many laptops.
                issues.append(FieldIssue("admin.password", "provision.plaintext_password"))
            ph = a.get("password_hash")
            if ph is not None and not str(ph).startswith("$argon2"):
                issues.append(FieldIssue("admin.password_hash", "password_hash.invalid"))
            spec = AdminSpec(
                username=str(a.get("username") or "").strip().lower(),
                display_name=str(a.get("display_name") or "").strip(),
                password_hash=str(ph) if ph else None,
            )
            if not spec.username:
                issues.append(FieldIssue("admin.username", "username.required"))
    if issues:
        raise ValidationError(issues)
    return Provision(hub, site, letter, str(code).strip() if code else None, spec)


def load(path: Path) -> Provision:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValidationError([FieldIssue("provision", "provision.unreadable")]) from None
    return parse(raw)


@dataclass(frozen=True, slots=True)
class Applied:
    install_id: str
    created: bool  # the station was created by this call
    admin_created: bool


def user_exists(st: Station, username: str) -> bool:
    with st.read() as conn:
        return bool(
            conn.execute(
                text("SELECT 1 FROM app_user WHERE site_code = :s AND username = :u"),
                {"s": st.site_code, "u": username},
            ).scalar()
        )


def apply_local(data_dir: Path, prov: Provision, *, letter: str | None = None) -> Applied:
    """Create the station (if needed) and the admin from a hash; remember the hub URL.

    Re-running is harmless: an existing station (same site) and admin are kept.
    """
    ddir = Path(data_dir)
    created = not (ddir / "station.json").exists()
    st = (
        init_station(ddir, prov.site_code, station_letter=letter or prov.station_letter)
        if created
        else open_station(ddir)
    )
    try:
        if st.site_code != prov.site_code:
            raise ValidationError([FieldIssue("site_code", "provision.other_site")])
        admin_created = False
        spec = prov.admin
        if spec is not None and spec.password_hash and not user_exists(st, spec.username):
            admin.create_user_with_hash(
                st,
                Actor.system(st.site_code),
                UserInput(spec.username, spec.display_name or spec.username, "admin", None),
                spec.password_hash,
            )
            admin_created = True
        replica.set_meta(st, HUB_URL_KEY, prov.hub_url)
        return Applied(st.install_id, created, admin_created)
    finally:
        st.close()


__all__ = ["AdminSpec", "Applied", "Provision", "apply_local", "load", "parse", "user_exists"]
