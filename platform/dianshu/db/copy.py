"""COPY staging, for every bulk write (ingestion, grouping, points runs).

COPY cannot write through row-level security, so rows go by COPY into a temporary table (dropped at
commit) and from there into the tenant's tables by one INSERT ... SELECT under the transaction's
scope. COPY goes through the session's own asyncpg connection: the same transaction, the same scope.
Lines are in PostgreSQL's COPY text format (`copy_text` writes one value; callers join a row's values
with tabs), which is cheaper to build than binary records."""

from __future__ import annotations

import datetime
import io
import itertools
import re
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The characters COPY text needs escaped.
ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ARRAY_QUOTE = re.compile(r'[{}",\\\s]|^$|^[Nn][Uu][Ll][Ll]$')  # array items PostgreSQL would misread bare
_PLAIN = (int, Decimal, datetime.date, datetime.datetime, uuid.UUID)  # their str() needs no escaping
PLAIN_TYPES = frozenset(_PLAIN)
_STR = frozenset((str,))
_ARRAY_QUOTE_CHAR = re.compile(r'[{}",\\\s]')  # _ARRAY_QUOTE's characters (the same class)
_NULLS = frozenset(map("".join, itertools.product("Nn", "Uu", "Ll", "Ll")))  # and its other case


def _array_item(x: Any) -> str:
    if x is None:
        return "NULL"
    t = str(x)
    if type(x) is str and _ARRAY_QUOTE.search(t):
        return '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return t


def _escape(t: str) -> str:
    """t.translate(ESCAPE), skipped when nothing would change (printable: no TAB, LF or CR)."""
    return t if t.isprintable() and "\\" not in t else t.translate(ESCAPE)


def copy_text(value: Any) -> str:
    """A value in PostgreSQL's COPY text format (arrays as literals; \\N for NULL)."""
    t = type(value)
    if t in _PLAIN:
        return str(value)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if t is list:
        types = set(map(type, value))
        if PLAIN_TYPES.issuperset(types):  # charges, dates: nothing to quote or escape
            return "{" + ",".join(map(str, value)) + "}"
        if types == _STR and all(value) and _NULLS.isdisjoint(value) and not _ARRAY_QUOTE_CHAR.search("".join(value)):
            # Codes: no item is empty, NULL or holds a character _ARRAY_QUOTE looks for, so none is quoted.
            return _escape("{" + ",".join(value) + "}")
        return _escape("{" + ",".join([_array_item(x) for x in value]) + "}")
    if t is str:
        return _escape(value)
    return _escape(str(value))


async def raw_connection(session: AsyncSession) -> Any:
    """The session's asyncpg connection (its transaction, its scope): for COPY, cursors and raw fetches."""
    return (await (await session.connection()).get_raw_connection()).driver_connection


class Stage:
    """A temporary table that COPY fills, dropped at commit (made by `stage`)."""

    def __init__(self, name: str, columns: tuple[str, ...], connection: Any) -> None:
        self.name, self.columns, self.connection = name, columns, connection

    async def copy_lines(self, lines: Iterable[str]) -> None:
        """COPY text lines (each ending in a newline, values in `columns` order) into the table."""
        source = io.BytesIO("".join(lines).encode("utf-8"))
        await self.connection.copy_to_table(self.name, source=source, columns=list(self.columns), format="text")

    async def copy_records(self, records: Iterable[Sequence[Any]]) -> None:
        """Tuples (values in `columns` order) into the table by binary COPY."""
        await self.connection.copy_records_to_table(self.name, records=records, columns=list(self.columns))


async def stage(
    session: AsyncSession, name: str, columns: Sequence[tuple[str, str]], extra: Sequence[tuple[str, str]] = ()
) -> Stage:
    """Create the temporary table `name` with `columns` (name, SQL type), which COPY fills, and `extra`
    columns that later statements fill; dropped when the transaction commits."""
    cols = ", ".join(f"{n} {t}" for n, t in (*columns, *extra))
    await session.execute(text(f"create temporary table {name} ({cols}) on commit drop"))
    return Stage(name, tuple(n for n, _ in columns), await raw_connection(session))
