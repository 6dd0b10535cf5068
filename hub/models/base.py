"""The declarative base and the column types every hub table shares."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import (
    String,
    Table,
)
from sqlalchemy.orm import DeclarativeBase

# station_day rows where a station may still owe doses or hold unsent voids (hub/counters.py).
OPEN_ROWS_SQL = "t_all_entered > held_all OR carried > 0 OR t_voids_unsent > 0"

# What a change row does at the station (sync.protocol.Change.kind).
ChangeKind = Literal["upsert", "redirect"]

# Long enough for every id the protocol allows (Op.entity_id is at most 64).
ID = String(64)
TS = String(40)
SITE = String(32)


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """The :class:`Table` of a declarative model, for Core statements and bulk writes.

    SQLAlchemy types ``__table__`` as any ``FromClause`` (a model may map a join);
    every hub model maps one table, which this checks once, where the name is bound.
    """
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} does not map a single table")
    return table
