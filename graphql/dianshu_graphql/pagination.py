"""Relay-style connections with opaque keyset cursors; a page holds at most 100 nodes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from dianshu_graphql.errors import ExpectedError

T = TypeVar("T")
MAX_PAGE = 100


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), default=str).encode()).decode()


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(value, list):
            raise ValueError
        return value
    except Exception as e:
        raise ExpectedError(f"after: {cursor!r} is not a cursor from this API") from e


def page_size(first: int | None) -> int:
    n = 50 if first is None else first
    if n < 1 or n > MAX_PAGE:
        raise ExpectedError(f"first: must be between 1 and {MAX_PAGE} (got {n})")
    return n


def build(
    rows: Sequence[Any], limit: int, key: Callable[[Any], Sequence[Any]], convert: Callable[[Any], T]
) -> Connection[T]:
    """`rows` was fetched with limit+1 to learn whether another page exists."""
    has_next = len(rows) > limit
    rows = rows[:limit]
    edges = [Edge(cursor=encode_cursor(key(r)), node=convert(r)) for r in rows]
    return Connection(
        edges=edges, page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None)
    )
