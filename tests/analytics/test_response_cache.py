"""Whole responses of analytics-only queries kept per refresh (dianshu_graphql/response_cache.py),
through the served app on test_analytics.py's world: a repeat is answered without executing, with
the same bytes; never another scope's; a refresh that changes the cells is seen at once; other
variables, operation name or language are other entries; a document with another root field, or an
answer with errors, is never kept; the bound evicts; 0 turns it off."""

from __future__ import annotations

import pytest

from dianshu.analytics import cache
from dianshu.observability import metrics as m
from dianshu.scope import Role
from dianshu_graphql import response_cache
from dianshu_graphql.response_cache import ResponseCache
from tests.analytics.test_analytics import refresh
from tests.analytics.test_analytics_review import set_pv

DASHBOARD = """query RcDash($t: String!, $by: [AnalyticsDimension!]) {
  __typename
  total: analytics(tenant: $t, year: 2025) { nodes { figures { cases cost expectedPayment } } }
  parts: analytics(tenant: $t, year: 2025, groupBy: $by) { nodes { key { department } figures { cases } } }
  lastYear: analyticsYearOverYear(tenant: $t, year: 2025) { nodes { current { cases } } }
}
query RcOther($t: String!) {
  analytics(tenant: $t, year: 2025) { pageInfo { hasNextPage } nodes { figures { cases } } } }"""


@pytest.fixture
def executed(monkeypatch):
    """The requests' analytics transactions (cache.answers calls): one per executed request."""
    calls = []
    answers = cache.answers

    async def counted(*args, **kwargs):
        calls.append(args[2])
        return await answers(*args, **kwargs)

    monkeypatch.setattr(cache, "answers", counted)
    return calls


async def post(api, token, variables, operation="RcDash", query=DASHBOARD, headers=None):
    r = await api.client.post(
        "/graphql",
        json={"query": query, "variables": variables, "operationName": operation},
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
    )
    assert r.status_code == 200, r.text
    return r


def responses(api) -> ResponseCache:
    return api.app.state.services.responses


def seconds_count(operation):
    return (
        m.REGISTRY.get_sample_value(
            "dianshu_graphql_operation_seconds_count", {"operation": operation, "type": "query"}
        )
        or 0
    )


async def test_a_repeat_is_answered_from_memory_per_scope_and_per_refresh(api, db, city, year, executed):
    await refresh(db, year, city.a, 2025)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    v = {"t": city.a, "by": ["department"]}
    before = seconds_count("RcDash")
    hits = m.REGISTRY.get_sample_value("dianshu_analytics_response_cache_total", {"result": "hit"}) or 0
    first = await post(api, a1, v)
    total = first.json()["data"]["total"]["nodes"]
    assert total == [{"figures": {"cases": 3, "cost": "23000.00", "expectedPayment": "23750.00"}}]
    assert len(executed) == 1
    again = await post(api, a1, v)
    assert again.content == first.content and len(executed) == 1  # not executed: the same bytes
    assert (responses(api).hits, responses(api).misses) == (1, 1)
    # Counted as an operation like any, and as a hit.
    assert seconds_count("RcDash") == before + 2
    assert m.REGISTRY.get_sample_value("dianshu_analytics_response_cache_total", {"result": "hit"}) == hits + 1
    # Another hospital with the same query: its own answer, never a1's; and then kept for it.
    theirs = await post(api, a2, v)
    assert theirs.json()["data"]["total"]["nodes"][0]["figures"]["cases"] == 1 and len(executed) == 2
    assert (await post(api, a2, v)).content == theirs.content and len(executed) == 2
    region = await post(api, api.token(Role.region_viewer, [city.a]), v)
    assert region.json()["data"]["total"]["nodes"][0]["figures"]["cases"] == 4 and len(executed) == 3
    # A refresh that changes the cells: the next request executes and shows the new figures.
    await set_pv(db, year, city, "200")
    assert (await post(api, a1, v)).content == first.content and len(executed) == 3  # not refreshed yet
    assert (await refresh(db, year, city.a, 2025))["changed"] == 1
    after = await post(api, a1, v)
    assert after.json()["data"]["total"]["nodes"][0]["figures"]["expectedPayment"] == "47500.00"
    assert len(executed) == 4
    assert (await post(api, a1, v)).content == after.content and len(executed) == 4


async def test_other_variables_operation_or_language_are_other_entries(api, db, city, year, executed):
    await refresh(db, year, city.a, 2025)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    await post(api, a1, {"t": city.a, "by": ["department"]})
    await post(api, a1, {"t": city.a, "by": ["month"]})
    await post(api, a1, {"t": city.a}, operation="RcOther")
    await post(api, a1, {"t": city.a, "by": ["department"]}, headers={"Accept-Language": "en"})
    assert len(executed) == 4 and len(responses(api)) == 4
    # Each is kept: the same requests again execute nothing (variables' key order does not matter).
    await post(api, a1, {"by": ["month"], "t": city.a})
    await post(api, a1, {"t": city.a}, operation="RcOther")
    await post(api, a1, {"t": city.a, "by": ["department"]}, headers={"Accept-Language": "en"})
    assert len(executed) == 4


async def test_a_mixed_document_or_an_error_is_never_kept(api, db, city, year, executed):
    await refresh(db, year, city.a, 2025)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    mixed = """query($t: String!) { analytics(tenant: $t, year: 2025) { nodes { figures { cases } } }
      analyticsStatus(tenant: $t, year: 2025) { stale } }"""
    for _ in range(2):
        r = await post(api, a1, {"t": city.a}, operation=None, query=mixed)
        assert not r.json().get("errors")
    assert len(executed) == 2 and len(responses(api)) == 0
    # Another region's: refused (an error), not kept.
    for _ in range(2):
        r = await post(api, a1, {"t": city.b, "by": []})
        assert r.json()["errors"]
    assert len(responses(api)) == 0 and responses(api).hits == 0


async def test_the_bound_evicts_and_0_turns_it_off(api, db, city, year, executed):
    await refresh(db, year, city.a, 2025)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    api.app.state.services.responses = ResponseCache(1)
    one, two = {"t": city.a, "by": ["department"]}, {"t": city.a, "by": ["month"]}
    await post(api, a1, one)
    await post(api, a1, one)
    assert len(executed) == 1
    await post(api, a1, two)  # one is out
    await post(api, a1, one)
    assert len(executed) == 3 and len(responses(api)) == 1
    api.app.state.services.responses = ResponseCache(0)
    first = await post(api, a1, one)
    assert (await post(api, a1, one)).content == first.content
    assert len(executed) == 5 and len(responses(api)) == 0


def test_which_documents_are_kept():
    def ok(query, name=None):
        return response_cache.eligible(query, name, 10_000)[0]

    assert ok('{ analytics(tenant: "a", year: 2025) { pageInfo { hasNextPage } } }')
    assert ok(
        'query Q { __typename y: analyticsYearOverYear(tenant: "a", year: 2025) { pageInfo { hasNextPage } } }', "Q"
    )
    assert ok(DASHBOARD, "RcOther") and not ok(DASHBOARD)  # two operations: one must be named
    assert not ok("{ __typename }")
    assert not ok('{ analytics(tenant: "a", year: 2025) { pageInfo { hasNextPage } } me { id } }')
    assert not ok('{ ...F } fragment F on Query { analytics(tenant: "a", year: 2025) { pageInfo { hasNextPage } } }')
    assert not ok('mutation { analytics(tenant: "a", year: 2025) { pageInfo { hasNextPage } } }')
    assert not ok("{ analytics(")


async def test_a_new_tenant_generation_is_another_entry(api, db, city, year, executed):
    """The registry's generation is in the key: a tenant added (a city's regions come from it) makes
    the next request execute. Reloading the same tenants keeps the generation."""
    await refresh(db, year, city.a, 2025)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    v = {"t": city.a, "by": ["department"]}
    registry = api.app.state.services.registry
    await post(api, a1, v)
    generation = registry.generation
    registry.invalidate()
    await registry.all()
    assert registry.generation == generation
    await post(api, a1, v)
    assert len(executed) == 1
    registry.generation += 1  # what a load finding other tenants does
    await post(api, a1, v)
    assert len(executed) == 2


def test_entries_age_out_and_a_mixed_read_is_marked():
    now = [0.0]
    kept = ResponseCache(2, ttl=10, clock=lambda: now[0])
    kept.put("a", response_cache.Entry({"x": 1}, {}))
    assert kept.get("a") is not None
    now[0] = 10.0
    assert kept.get("a") is None and len(kept) == 0
    seen = cache.Seen()
    seen.record({("r", 2025): "d1", ("r", 2024): None})
    seen.record({("r", 2025): "d1"})
    assert not seen.mixed
    seen.record({("r", 2025): "d2"})  # a refresh committed between two of the request's reads
    assert seen.mixed


async def test_the_registry_generation_changes_when_the_tenants_do():
    from collections import namedtuple
    from contextlib import asynccontextmanager

    from dianshu_tenants.context import TenantRegistry

    Row = namedtuple("Row", "code name kind parent_code")
    rows = [Row("c", "City", "city", None), Row("r1", "R1", "region", "c")]

    class Result:
        def all(self):
            return list(rows)

    class Session:
        async def execute(self, _):
            return Result()

    class Db:
        @asynccontextmanager
        async def session(self, _):
            yield Session()

    registry = TenantRegistry(Db(), ttl_seconds=0)
    await registry.all()
    first = registry.generation
    await registry.all()
    assert registry.generation == first  # the same tenants read again
    rows.append(Row("r2", "R2", "region", "c"))
    assert "r2" in await registry.all() and registry.generation == first + 1
