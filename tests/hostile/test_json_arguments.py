"""Malformed JSON arguments (setPolicy's parameters, setAlliance's shares, simulateAgainstRun's
parameters and coefficients) are typed, field-named refusals, never a masked "Unexpected error."."""

from __future__ import annotations

import uuid

import pytest

from dianshu.scope import Role
from tests.api import Api
from tests.conftest import provision_city

SET_POLICY = """mutation($t: String!, $p: JSON!) {
  setPolicy(input: {tenant: $t, year: 2025, ledger: "employee", parameters: $p, reason: "test"}) { __typename
    ... on ValidationError { errors { record field reason } } } }"""
SET_ALLIANCE = """mutation($t: String!, $h: String!, $s: JSON!) {
  setAlliance(input: {tenant: $t, id: "M1", name: "M", lead: $h, shares: $s}) { __typename
    ... on ValidationError { errors { record field reason } } } }"""
AGAINST_RUN = """query($t: String!, $r: ID!, $p: JSON, $c: JSON) {
  simulateAgainstRun(tenant: $t, run: $r, parameters: $p, coefficients: $c) { __typename
    ... on ValidationError { errors { record field reason } } } }"""


@pytest.fixture(scope="module")
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


@pytest.fixture(scope="module")
async def city(owner_db, db):
    # Every call here is refused: one city serves the whole module.
    return await provision_city(owner_db, db)


@pytest.mark.parametrize(
    ("parameters", "field", "reason"),
    [
        ([1, 2], "parameters", "must be a JSON object of parameter names to values"),
        ("prepay_ratio=0.9", "parameters", "must be a JSON object of parameter names to values"),
        ({"violation_multiples": "x"}, "parameters.violation_multiples", 'must be a JSON object (got "x")'),
        (
            {"violation_multiples": {"theft": "1"}},
            "parameters.violation_multiples.theft",
            "unknown key (allowed: split_admission, bed_hanging, no_indication, outpatient_shift, own_pay_switch, "
            "upcoding, fraud)",
        ),
        ({"readmission_exempt_adrgs": 5}, "parameters.readmission_exempt_adrgs", "must be a JSON array (got 5)"),
        ({"readmission_exempt_adrgs": [5]}, "parameters.readmission_exempt_adrgs[0]", "must be a string (got 5)"),
        ({"reserve_ratio": 0.05}, "parameters.reserve_ratio", "decimals travel as strings, not float (0.05)"),
        (
            {"reserve_ratio": {"a": 1}},
            "parameters.reserve_ratio",
            "must be a decimal as a string or an integer (got an object)",
        ),
        ({"reserve_ratio": "1"}, "parameters.reserve_ratio", "must be at least 0 and below 1 (got 1)"),
        ({"bed_day_min_los": "60"}, "parameters.bed_day_min_los", 'must be a whole number (got "60")'),
        ({"merge_ledgers": "true"}, "parameters.merge_ledgers", 'must be a JSON boolean, true or false (got "true")'),
        ({"rounding": None}, "parameters.rounding", "must be a string (got null)"),
        (
            {"incomplete_discharge_ways": [2, 99]},
            "parameters.incomplete_discharge_ways",
            "discharge ways are 1, 2, 3, 4, 5, 9 (got [99])",
        ),
    ],
)
async def test_set_policy_refuses_malformed_parameters_by_field(api, city, parameters, field, reason):
    out = await api.gql(api.token(Role.region_admin, [city.a]), SET_POLICY, {"t": city.a, "p": parameters})
    assert out["setPolicy"] == {
        "__typename": "ValidationError",
        "errors": [{"record": "policy 2025/employee", "field": field, "reason": reason}],
    }


@pytest.mark.parametrize(
    ("shares", "field", "reason"),
    [
        ([1, 2], "shares", 'must be a JSON object of hospital -> ratio: {"H1": "0.6", ...}'),
        ("H1:0.5", "shares", 'must be a JSON object of hospital -> ratio: {"H1": "0.6", ...}'),
        (7, "shares", 'must be a JSON object of hospital -> ratio: {"H1": "0.6", ...}'),
        ({"A1": 0.5, "A2": "0.5"}, "shares.A1", "decimals travel as strings, not float (0.5)"),
        ({"A1": {"x": 1}, "A2": "0.5"}, "shares.A1", "{'x': 1} is not a decimal"),
    ],
)
async def test_set_alliance_refuses_malformed_shares_by_field(api, city, shares, field, reason):
    shares = {city.a1 if k == "A1" else city.a2: v for k, v in shares.items()} if isinstance(shares, dict) else shares
    field = field.replace("A1", city.a1)
    out = await api.gql(api.token(Role.region_admin, [city.a]), SET_ALLIANCE, {"t": city.a, "h": city.a1, "s": shares})
    assert out["setAlliance"] == {
        "__typename": "ValidationError",
        "errors": [{"record": "alliance M1", "field": field, "reason": reason}],
    }


@pytest.mark.parametrize(
    ("parameters", "coefficients", "field", "reason"),
    [
        (None, [1.1], "coefficients", "must be a JSON object of hospital code -> coefficient"),
        (None, "1.1", "coefficients", "must be a JSON object of hospital code -> coefficient"),
        ("x", None, "parameters", 'must be a JSON object (got "x")'),
        ({"reserve_rate": "1"}, None, "parameters.reserve_rate", "unknown key (did you mean reserve_ratio?)"),
        ({"prepay_ratio": 0.9}, None, "parameters.prepay_ratio", "decimals travel as strings, not float (0.9)"),
        (None, None, "run", "no annual clearing run {run} in {tenant}"),
        (None, None, "run", "not an id"),
    ],
)
async def test_simulate_against_run_refuses_malformed_arguments_by_field(
    api, city, parameters, coefficients, field, reason
):
    run = "R-1" if reason == "not an id" else str(uuid.uuid4())
    variables = {"t": city.a, "r": run, "p": parameters, "c": coefficients}
    out = await api.gql(api.token(Role.region_admin, [city.a]), AGAINST_RUN, variables)
    assert out["simulateAgainstRun"] == {
        "__typename": "ValidationError",
        "errors": [{"record": f"run {run}", "field": field, "reason": reason.format(run=run, tenant=city.a)}],
    }
