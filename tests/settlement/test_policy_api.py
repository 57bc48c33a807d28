"""Policy parameters through the API: SPEC defaults, the city's defaults, a region's own; checked,
versioned, audited, safe to retry, and visible only within scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dianshu.audit.models import AuditEntry
from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from tests.api import Api
from tests.settlement.scenario_input import graphql_policy, graphql_scenario
from tests.settlement.test_simulate import SCENARIO

SET = """mutation($i: SetPolicyInput!) { setPolicy(input: $i) { __typename
  ... on PolicyPayload { policy { parameters { prepayRatio reserveRatio } cityVersion regionVersion
    changes { nodes { level version reason } } } }
  ... on ValidationError { message errors { field reason } } ... on PermissionDenied { message } } }"""
GET = """query($t: String!) { policy(tenant: $t, year: 2025) {
  parameters { prepayRatio reserveRatio } cityVersion regionVersion } }"""


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


def inp(tenant, params, reason="2025 negotiation"):
    i = {"tenant": tenant, "year": 2025, "ledger": "employee", "parameters": graphql_policy(params), "reason": reason}
    return {"i": i}


async def test_defaults_city_then_region(api, db, city):
    city_admin = api.token(Role.city_admin, [city.city])
    region_a = api.token(Role.region_admin, [city.a])
    got = (await api.gql(region_a, GET, {"t": city.a}))["policy"]
    assert got["parameters"]["prepayRatio"] == "0.95" and got["cityVersion"] is None  # SPEC defaults
    out = await api.gql(city_admin, SET, inp(city.city, {"prepay_ratio": "0.9", "reserve_ratio": "0.06"}))
    assert out["setPolicy"]["policy"]["cityVersion"] == 1
    out = await api.gql(region_a, SET, inp(city.a, {"reserve_ratio": "0.04"}, "county budget"))
    policy = out["setPolicy"]["policy"]
    # Region A: the city's prepay ratio, its own reserve ratio.
    assert (policy["parameters"]["prepayRatio"], policy["parameters"]["reserveRatio"]) == ("0.9", "0.04")
    assert [(c["level"], c["version"]) for c in policy["changes"]["nodes"]] == [("city", 1), ("region", 1)]
    # Region B gets the city's defaults only.
    b = (await api.gql(api.token(Role.region_viewer, [city.b]), GET, {"t": city.b}))["policy"]
    assert (b["parameters"]["reserveRatio"], b["regionVersion"]) == ("0.06", None)
    # A hospital of region A reads its region's policy.
    h = (await api.gql(api.token(Role.hospital_user, [city.a], city.a1), GET, {"t": city.a}))["policy"]
    assert h["parameters"]["reserveRatio"] == "0.04"


async def test_retry_validation_permissions_and_audit(api, db, city):
    region_a = api.token(Role.region_admin, [city.a])
    first = await api.gql(region_a, SET, inp(city.a, {"high_k_1": "2.5"}))
    again = await api.gql(region_a, SET, inp(city.a, {"high_k_1": "2.5"}))
    assert first["setPolicy"]["policy"]["regionVersion"] == again["setPolicy"]["policy"]["regionVersion"] == 1
    bad = await api.gql(region_a, SET, inp(city.a, {"prepay_ratio": "0.5"}))
    assert bad["setPolicy"]["__typename"] == "ValidationError"
    assert bad["setPolicy"]["errors"] == [
        {"field": "input.parameters.prepayRatio", "reason": "never below 0.85 (got 0.5)"}
    ]
    # An unknown parameter is refused by GraphQL itself (PolicyParametersInput is strict).
    unknown = (
        await api.post(
            region_a,
            'mutation($t: String!) { setPolicy(input: {tenant: $t, year: 2025, ledger: employee, reason: "r", '
            'parameters: {bogus: "1"}}) { __typename } }',
            {"t": city.a},
        )
    ).json()
    assert unknown.get("data") is None and "'bogus'" in unknown["errors"][0]["message"]
    noreason = await api.gql(region_a, SET, inp(city.a, {"high_k_1": "2"}, reason=" "))
    assert noreason["setPolicy"]["errors"][0]["field"] == "input.reason"
    for token, tenant in (
        (region_a, city.b),
        (region_a, city.city),
        (api.token(Role.region_viewer, [city.a]), city.a),
        (api.token(Role.hospital_user, [city.a], city.a1), city.a),
        (api.token(Role.city_admin, [city.city]), city.a),
    ):
        out = await api.gql(token, SET, inp(tenant, {"high_k_1": "2"}))
        assert out["setPolicy"]["__typename"] == "PermissionDenied", (tenant, out)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        entries = (await s.execute(select(AuditEntry).where(AuditEntry.action == "policy.changed"))).scalars().all()
    assert len(entries) == 1 and entries[0].details["parameters"] == {"high_k_1": "2.5"}
    # Another region cannot read region A's policy.
    r = await api.post(api.token(Role.region_admin, [city.b]), GET, {"t": city.a})
    assert "outside your scope" in r.json()["errors"][0]["message"]


SIM = """query($s: ScenarioInput!) { simulate(scenario: $s) { __typename
  ... on SimulationPayload { result { ledgers { ledger hospitals { hospital due } } } }
  ... on ValidationError { message errors { record field reason } } ... on PermissionDenied { message } } }"""


async def test_simulate_through_graphql(api, city):
    token = api.token(Role.region_admin, [city.a])
    out = (await api.gql(token, SIM, {"s": graphql_scenario(SCENARIO)}))["simulate"]
    (employee,) = out["result"]["ledgers"]
    assert employee["ledger"] == "employee"
    assert {h["hospital"]: h["due"] for h in employee["hospitals"]}["H1"] == "71937.50"
    # A required field left out is refused by GraphQL itself; a value out of range by the scenario's
    # reader, at the input's path.
    missing = (await api.post(token, SIM, {"s": graphql_scenario({**SCENARIO, "standard": {}})})).json()
    assert missing.get("data") is None and [e["extensions"]["code"] for e in missing["errors"]] == ["BAD_USER_INPUT"]
    assert "Variable '$s'" in missing["errors"][0]["message"], missing  # the client's mistake, not masked
    bad = graphql_scenario(SCENARIO)
    bad["standard"]["avgCostAll"] = "0"
    out = (await api.gql(token, SIM, {"s": bad}))["simulate"]
    assert out["errors"] == [
        {"record": "scenario", "field": "scenario.standard.avgCostAll", "reason": 'must be > 0 (got "0")'}
    ]
    out = (await api.gql(api.token(Role.hospital_user, [city.a], city.a1), SIM, {"s": graphql_scenario(SCENARIO)}))[
        "simulate"
    ]
    assert out["__typename"] == "PermissionDenied" and "may not do this" in out["message"]
