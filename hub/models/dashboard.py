"""Dashboard tables (0002): committee logins, sessions, allocations."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import TS, Base

# ---- dashboard (0002): committee logins, sessions, allocations -------------------------


class DashboardUser(Base):
    """A district/province committee login for the dashboard (never a station credential)."""

    __tablename__ = "dashboard_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(10))  # province | district
    scope_code: Mapped[str] = mapped_column(String(16))  # province code or site.area_code
    active: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[str] = mapped_column(TS)
    last_login_at: Mapped[str | None] = mapped_column(TS)


class DashboardSession(Base):
    """Server-side sessions, so logout and deactivation end them at once."""

    __tablename__ = "dashboard_session"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[str] = mapped_column(TS)
    expires_at: Mapped[str] = mapped_column(TS)


class Allocation(Base):
    """Doses allocated to a site, an area or a province (the directive's denominator)."""

    __tablename__ = "allocation"
    level: Mapped[str] = mapped_column(String(10), primary_key=True)  # site | area | province
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    doses: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[str] = mapped_column(TS)
