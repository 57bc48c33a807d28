"""The analytics views' answers, kept per refresh (in the process, bounded).

The views read summary tables that change only when a refresh writes them (refresh.py: the cells,
the month rows and the refresh row commit together, and the row's digest is of the cells and of
what they were computed from: another digest, other cells; the same digest, the same cells). An
answer is kept under (the scope as row-level security reads it, the view and its arguments, the
digest of every region-year the view reads). A request reads those digests first, in its own
read-only transaction (one indexed statement on analytics_refresh), and answers from memory when
it holds that key; else it computes the view in the same transaction and keeps the answer.

- Correct across processes (`dianshu serve --workers N`): the generation is checked in the
  database on every request, so a refresh committed by any worker's job is seen by the next
  request in every process; nothing needs invalidating. The transaction is repeatable read, so
  the digests and the cells computed under them are one snapshot (a refresh committing in
  between cannot put new cells under the old digest).
- Never across scopes: the key holds the role, the tenants, the hospital and the all-hospitals
  flag (what the analytics tables' row-level security reads), so a hospital's answer (its own
  cells) is never another's, nor a region's.
- A region-year never refreshed has no digest (None in the key): its answer, no rows, is kept
  under that until a refresh writes one.
- Bounded: at most `max_rows` rows (groups) held in all, the least recently used answers dropped
  first, and each answer at most `ttl` seconds (a superseded generation's answers age out).

The status (views.status) is not cached: it compares the stored inputs with today's, which change
without a refresh."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dianshu.analytics import views
from dianshu.db.session import Fetch
from dianshu.scope import Scope

# The refresh rows' digests of the region-years asked for, as the caller's scope sees them.
GENERATIONS_SQL = (
    "select tenant_id, year, digest from analytics_refresh "
    "where tenant_id = any(cast($1 as text[])) and year = any(cast($2 as smallint[]))"
)

# About 4.5 KB a row (a group's sums and figures as Decimals, measured with tracemalloc): 20,000
# rows are some 90 MB a process. A hospital's dashboard (total, 100 departments, 12 months) is
# about 113 rows.
MAX_ROWS = 20_000
TTL_SECONDS = 600.0


@dataclass(frozen=True)
class Ask:
    """One view asked for, its arguments as checked (the GraphQL layer's _view): `groups` or
    `year_over_year` of `tenants`' year."""

    view: str
    tenants: tuple[str, ...]
    year: int
    by: tuple[str, ...]
    filters: views.Filters
    after: tuple[Any, ...] | None
    limit: int | None

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"no analytics view {self.view!r}")

    @property
    def years(self) -> tuple[int, ...]:
        """The years whose cells the view reads (year over year: the year before too)."""
        return (self.year,) if self.view == "groups" else (self.year, self.year - 1)

    async def compute(self, fetch: Fetch) -> list[Any]:
        after = None if self.after is None else list(self.after)
        return await VIEWS[self.view](
            fetch, list(self.tenants), self.year, self.by, self.filters, after=after, limit=self.limit
        )


VIEWS: dict[str, Callable[..., Any]] = {"groups": views.groups, "year_over_year": views.year_over_year}


def scope_key(scope: Scope) -> tuple[Any, ...]:
    """What of a scope decides the rows it reads (db.session.scope_settings without the actor,
    which the analytics tables' policies do not read)."""
    return (scope.role.value, scope.tenant_ids, scope.hospital_id, scope.all_hospitals)


class AnswerCache:
    """key -> answer, least recently used first out, bounded by rows and age."""

    def __init__(self, max_rows: int = MAX_ROWS, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.max_rows = max_rows
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[Any, tuple[float, int, list[Any]]] = OrderedDict()
        self._rows = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def rows(self) -> int:
        return self._rows

    def get(self, key: Any) -> list[Any] | None:
        found = self._entries.get(key)
        if found is None:
            return None
        at, _, value = found
        if self._clock() - at >= self.ttl:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Any, value: Any, size: int | None = None) -> None:
        """Keep `value` (`size` rows: by default its length, at least 1)."""
        size = max(1, len(value)) if size is None else max(1, size)
        if size > self.max_rows:
            return  # bigger than the whole cache: answered, not kept
        if key in self._entries:
            self._drop(key)
        while self._entries and self._rows + size > self.max_rows:
            self._drop(next(iter(self._entries)))
        self._entries[key] = (self._clock(), size, value)
        self._rows += size

    def discard(self, key: Any) -> None:
        if key in self._entries:
            self._drop(key)

    def _drop(self, key: Any) -> None:
        _, size, _ = self._entries.pop(key)
        self._rows -= size


class Seen:
    """The (tenant, year) -> digest a request's answers were read under (the whole-response cache,
    dianshu_graphql.response_cache, keeps a response under them). `mixed`: one region-year was read
    under two digests (a refresh committed between two of the request's transactions): the response
    is not one generation's and must not be kept."""

    def __init__(self) -> None:
        self.digests: dict[tuple[str, int], str | None] = {}
        self.mixed = False

    def record(self, digests: dict[tuple[str, int], str | None]) -> None:
        for k, d in digests.items():
            if k in self.digests and self.digests[k] != d:
                self.mixed = True
            self.digests[k] = d


async def generations(fetch: Fetch, tenants: Sequence[str], years: Sequence[int]) -> dict[tuple[str, int], Any]:
    """The digest of every region-year of `tenants` × `years` (None: never refreshed), one statement."""
    rows = await fetch(GENERATIONS_SQL, sorted(set(tenants)), sorted(set(years))) if tenants else []
    found = {(r["tenant_id"], int(r["year"])): r["digest"] for r in rows}
    return {(t, y): found.get((t, y)) for t in tenants for y in years}


async def answers(
    fetch: Fetch, cache: AnswerCache | None, scope: Scope, asks: Sequence[Ask], seen: Seen | None = None
) -> list[list[Any]]:
    """Each ask's answer, in `fetch`'s transaction under `scope` (a repeatable-read one, see the
    module's docstring): from `cache` when it holds the answer of the generations read now, else
    computed (and kept). No cache: each computed. `seen`: told every region-year's digest the
    answers were read under (read even with no cache)."""
    off = cache is None or cache.max_rows <= 0
    if off and seen is None:
        return [await a.compute(fetch) for a in asks]
    tenants = sorted({t for a in asks for t in a.tenants})
    years = sorted({y for a in asks for y in a.years})
    digests = await generations(fetch, tenants, years)
    if seen is not None:
        seen.record({(t, y): digests[(t, y)] for a in asks for t in a.tenants for y in a.years})
    if off:
        return [await a.compute(fetch) for a in asks]
    assert cache is not None
    who = scope_key(scope)
    out = []
    for a in asks:
        key = (who, a, tuple(digests.get((t, y)) for t in a.tenants for y in a.years))
        value = cache.get(key)
        if value is None:
            cache.misses += 1
            value = await a.compute(fetch)
            cache.put(key, value)
        else:
            cache.hits += 1
        out.append(value)
    return out
