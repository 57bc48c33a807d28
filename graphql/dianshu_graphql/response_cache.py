"""Whole responses of analytics-only queries, kept per refresh (in the process, bounded).

A dashboard's query asks for views whose answers analytics/cache.py keeps per refresh, but building
its some 300 fields in graphql-core still costs most of a request. A query operation whose root
fields are only `analytics`, `analyticsYearOverYear` (and `__typename`) is answered from memory
when it is the same request as one answered before and the summaries it read did not change:

- Key: the query text, the operation name, the variables (canonical JSON: @include/@skip read
  them), the caller's scope as the analytics tables' row-level security reads it
  (cache.scope_key), the response's language and the tenant registry's generation (a city's regions
  come from it).
- Validity: the first execution records every (region, year) -> refresh digest its answers were
  read under (cache.Seen); its `data` is kept only when it has no errors and no region-year was
  read under two digests. A repeat reads those digests again (one statement, cache.GENERATIONS_SQL,
  under the caller's scope) and is answered from memory only when all are equal and the entry is
  younger than the TTL; else it executes and replaces the entry. As the answer cache: correct
  across `--workers`, never across scopes.
- Bounded: at most `max_entries` responses (least recently used out first), each `ttl` seconds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dianshu.analytics import cache
from dianshu.analytics.cache import AnswerCache
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

ROOT_FIELDS = frozenset({"analytics", "analyticsYearOverYear", "__typename"})
MAX_ENTRIES = 1_000
TTL_SECONDS = 600.0


@dataclass(frozen=True)
class Entry:
    data: dict[str, Any]
    digests: dict[tuple[str, int], str | None]


@lru_cache(maxsize=512)
def eligible(query: str, operation_name: str | None, max_tokens: int) -> tuple[bool, str | None]:
    """(whether the operation `operation_name` of `query` may be kept: a query whose root
    selections are fields of ROOT_FIELDS only, one of them a view; the operation's name)."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return False, None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1:
        return False, None
    (op,) = operations
    name = op.name.value if op.name is not None else None
    if op.operation is not OperationType.QUERY:
        return False, name
    fields = op.selection_set.selections
    if not all(isinstance(f, FieldNode) and f.name.value in ROOT_FIELDS for f in fields):
        return False, name  # another root field, or a fragment at the root
    return any(f.name.value != "__typename" for f in fields if isinstance(f, FieldNode)), name


def key(query: str, operation_name: str | None, variables: Any, ctx: Any, lang: str) -> tuple[Any, ...] | None:
    """The entry's key, or None when the variables are not JSON (not kept)."""
    try:
        canonical = json.dumps(variables, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    return (query, operation_name, canonical, cache.scope_key(ctx.scope), lang, ctx.registry.generation)


class ResponseCache:
    """key -> Entry, least recently used first out, bounded by entries and age (AnswerCache's)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, ttl: float = TTL_SECONDS, clock: Any = None) -> None:
        kwargs = {} if clock is None else {"clock": clock}
        self._entries = AnswerCache(max_rows=max_entries, ttl=ttl, **kwargs)
        self.hits = 0
        self.misses = 0

    @property
    def max_entries(self) -> int:
        return self._entries.max_rows

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, k: Any) -> Entry | None:
        return self._entries.get(k)  # type: ignore[no-any-return]

    def put(self, k: Any, entry: Entry) -> None:
        self._entries.put(k, entry, size=1)

    def discard(self, k: Any) -> None:
        self._entries.discard(k)


async def still_valid(ctx: Any, entry: Entry) -> bool:
    """Whether every region-year `entry` was read under has the same digest now (one statement)."""
    if not entry.digests:
        return True
    tenants = sorted({t for t, _ in entry.digests})
    years = sorted({y for _, y in entry.digests})
    async with ctx.db.reading(ctx.scope) as conn:
        now = await cache.generations(conn.fetch, tenants, years)
    return all(now.get(k) == d for k, d in entry.digests.items())
