"""Relay connections with opaque keyset cursors: `first` (1 to 100, default 50, never clamped: a value
outside is refused naming `first`) and `after` (a cursor of the same list). Pages go forward;
`hasPreviousPage` says whether rows come before the page (those before `after`)."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from dianshu import bounds
from dianshu_graphql.errors import ExpectedError

T = TypeVar("T")
MAX_PAGE = 100
KEY_PART_MAX_CHARS = 100


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More rows follow: ask again with after: endCursor.")
    has_previous_page: bool = strawberry.field(
        description="Rows come before this page (it was asked for after a cursor)."
    )
    start_cursor: str | None = strawberry.field(description="The cursor of the page's first row (null when empty).")
    end_cursor: str | None = strawberry.field(description="The cursor of the page's last row (null when empty).")


@strawberry.type
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque: pass it as after to read on from this row.")
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The page's nodes (the edges' nodes, without their cursors).")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), default=str).encode()).decode()


def decode_cursor(cursor: str | None, *shape: Callable[[Any], Any]) -> list[Any] | None:
    """The cursor's key, each part converted by `shape` (str, int, uuid.UUID, a datetime parser):
    a cursor not made by this API for this list is refused as `after`, never an unexpected error."""
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        if not isinstance(value, list) or len(value) != len(shape):
            raise ValueError("wrong shape")
        key = []
        for part, convert in zip(value, shape, strict=True):
            key.append(convert(_key_part(part, convert)))
        return key
    except Exception as e:  # any decoding failure is the same client mistake
        raise ExpectedError(f"after: {cursor[:100]!r} is not a cursor from this API for this list", "after") from e


def _key_part(part: Any, convert: Callable[[Any], Any]) -> str | int:
    """A part as this API writes it: a str (codes, times, ids) PostgreSQL can hold, or a whole number
    (counts, row ids); a str key is a str and a number key a number."""
    if isinstance(part, bool) or not isinstance(part, str | int):
        raise ValueError("not a key part")
    if isinstance(part, str):
        if convert is key_int:
            raise ValueError("a number part is a number")
        if reason := bounds.text_reason(part, KEY_PART_MAX_CHARS):
            raise ValueError(reason)
    elif convert is not key_int or len(str(part)) > KEY_PART_MAX_CHARS:
        raise ValueError("a text part is text")
    return part


def iso_datetime(value: Any) -> datetime.datetime:
    dt = datetime.datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        raise ValueError("a cursor's time has its zone")
    return dt


def key_int(value: Any) -> int:
    """A row id or number that PostgreSQL's bigint holds."""
    n = int(value)
    if not 0 <= n < 1 << 63:
        raise ValueError("out of range")
    return n


def page_size(first: int | None) -> int:
    n = 50 if first is None else first
    if n < 1 or n > MAX_PAGE:
        raise ExpectedError(f"first: must be between 1 and {MAX_PAGE} (got {n})", "first")
    return n


def build(
    rows: Sequence[Any],
    limit: int,
    key: Callable[[Any], Sequence[Any]],
    convert: Callable[[Any], T],
    *,
    after: str | None = None,
) -> Connection[T]:
    """`rows` was fetched with limit+1 to learn whether another page exists; `after` is the cursor
    the page was asked for after (rows come before it)."""
    has_next = len(rows) > limit
    rows = rows[:limit]
    edges = [Edge(cursor=encode_cursor(key(r)), node=convert(r)) for r in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
