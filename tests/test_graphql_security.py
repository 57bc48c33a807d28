"""Attacks on the GraphQL endpoint, against the production profile: each refused clearly."""

from __future__ import annotations

import pytest

from dianshu.config import Settings
from dianshu.scope import Role
from dianshu_graphql.errors import ExpectedError
from dianshu_graphql.schema import should_mask
from graphql import GraphQLError
from tests.api import Api
from tests.conftest import JWT_SECRET


@pytest.fixture
async def dev(settings, db):
    api = Api(settings, db)
    yield api
    await api.client.aclose()


def messages(response) -> str:
    return " | ".join(e["message"] for e in response.json().get("errors", []))


async def test_over_deep_query_is_refused(test_database, db, city):
    # The schema is shallow today (depth 5 at most), so the limit is lowered to show the refusal;
    # the production default is 10 (DIANSHU_MAX_QUERY_DEPTH).
    settings = Settings(
        profile="prod",
        database_url=test_database.owner_url,
        redis_url="redis://127.0.0.1:1/0",
        jwt_secret=JWT_SECRET,
        max_query_depth=3,
    )
    assert (
        Settings(
            profile="prod", database_url="postgresql://x@y/z", redis_url="redis://y", jwt_secret="s"
        ).max_query_depth
        == 10
    )
    api = Api(settings, db)
    token = api.token(Role.city_admin, [city.city])
    ok = await api.post(token, "{ jobs { edges { node { id } } } }")
    assert ok.json()["data"] == {"jobs": {"edges": []}}
    r = await api.post(token, "{ jobs { edges { node { tenant { code } } } } }")
    assert "exceeds maximum operation depth of 3" in messages(r)
    assert r.json().get("data") is None
    await api.client.aclose()


async def test_alias_flood_is_refused(prod, city):
    token = prod.token(Role.city_admin, [city.city])
    flood = "{ " + " ".join(f"a{i}: me {{ role }}" for i in range(50)) + " }"
    r = await prod.post(token, flood)
    assert "aliases found. Allowed: 20" in messages(r)
    assert r.json().get("data") is None


async def test_huge_token_count_is_refused(prod, city):
    token = prod.token(Role.city_admin, [city.city])
    huge = "{ me { " + " ".join(["role"] * 4000) + " } }"
    r = await prod.post(token, huge)
    assert "document contains more than 3000 tokens" in messages(r).lower()
    assert r.json().get("data") is None


async def test_mutation_over_get_is_refused(prod, dev, city):
    mutation = 'mutation { importHospitals(input: {tenant: "TENANT", hospitals: []}) { __typename } }'
    mutation = mutation.replace("TENANT", city.a)
    # prod: no GET at all
    token = prod.token(Role.region_admin, [city.a])
    r = await prod.client.get("/graphql", params={"query": mutation}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (400, 405)
    assert r.status_code != 200
    # dev: GET queries work, GET mutations do not
    token = dev.token(Role.region_admin, [city.a])
    ok = await dev.client.get(
        "/graphql", params={"query": "{ me { role } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert ok.status_code == 200 and ok.json()["data"]["me"]["role"] == "region_admin"
    r = await dev.client.get("/graphql", params={"query": mutation}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400
    assert "mutations are not allowed when using get" in r.text.lower()


async def test_introspection_is_refused_in_prod_and_allowed_in_dev(prod, dev, city):
    q = "{ __schema { queryType { name } } }"
    r = await prod.post(prod.token(Role.city_admin, [city.city]), q)
    assert "introspection has been disabled" in messages(r).lower()
    r = await dev.post(dev.token(Role.city_admin, [city.city]), q)
    assert r.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_graphiql_is_served_in_dev_only(prod, dev):
    assert (await prod.client.get("/graphql", headers={"Accept": "text/html"})).status_code == 401
    r = await dev.client.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "graphiql" in r.text.lower()


def test_unexpected_errors_are_masked_and_expected_ones_pass():
    assert should_mask(GraphQLError("boom", original_error=RuntimeError("db password is hunter2")))
    assert not should_mask(GraphQLError("first: must be between 1 and 100", original_error=ExpectedError("x")))
    assert not should_mask(GraphQLError("Cannot query field 'x' on type 'Query'."))


async def test_expected_errors_reach_the_client(prod, city):
    r = await prod.post(prod.token(Role.city_admin, [city.city]), "{ hospitals(first: 1000) { nodes { code } } }")
    assert "first: must be between 1 and 100 (got 1000)" in messages(r)
    r = await prod.post(prod.token(Role.city_admin, [city.city]), '{ job(id: "nope") { id } }')
    assert "is not a job id" in messages(r)
