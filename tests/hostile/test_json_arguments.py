"""Malformed arguments of setPolicy's parameters, setAlliance's shares and simulateAgainstRun's
parameters and coefficients (JSON until issue 11, typed inputs now): a wrong type or an unknown
field is refused by GraphQL itself; a value out of range, a share or hospital given twice, the
rules between parameters are typed refusals naming the input's GraphQL path."""

from __future__ import annotations

import uuid

import pytest

from dianshu.scope import Role
from tests.api import Api
from tests.conftest import provision_city
from tests.settlement.scenario_input import graphql_policy

SET_POLICY = """mutation($t: String!, $p: PolicyParametersInput!) {
  setPolicy(input: {tenant: $t, year: 2025, ledger: employee, parameters: $p, reason: "test"}) { __typename
    ... on ValidationError { errors { record field reason } } } }"""
SET_ALLIANCE = """mutation($t: String!, $h: String!, $s: [AllianceShareInput!]!) {
  setAlliance(input: {tenant: $t, id: "M1", name: "M", lead: $h, shares: $s}) { __typename
    ... on ValidationError { errors { record field reason } } } }"""
AGAINST_RUN = """query($t: String!, $r: ID!, $p: PolicyParametersInput, $c: [HospitalCoefficientInput!]) {
  simulateAgainstRun(tenant: $t, run: $r, parameters: $p, coefficients: $c) { __typename
    ... on ValidationError { errors { record field reason } } } }"""
# What GraphQL itself refuses since these arguments are typed (a wrong type, an unknown field, a
# null, an Int beyond 32 bits, a float for a decimal): the request is answered with no data and the
# client's error (BAD_USER_INPUT).
GRAPHQL = None
FLOAT = "decimals travel as strings, not a float"


def refused_by_graphql(r, reason: str | None = None) -> bool:
    body = r.json()
    errors = body.get("errors") or []
    return (
        body.get("data") is None
        and bool(errors)
        and all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in errors)
        and (reason is None or any(reason in e["message"] for e in errors))
    )


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
        ([1, 2], GRAPHQL, None),
        ("prepay_ratio=0.9", GRAPHQL, None),
        ({"violation_multiples": "x"}, GRAPHQL, None),
        ({"violation_multiples": {"theft": "1"}}, GRAPHQL, None),
        ({"readmission_exempt_adrgs": 5}, GRAPHQL, None),
        ({"readmission_exempt_adrgs": [5]}, GRAPHQL, None),
        # Decimals travel as strings, not floats (a float is binary already: 0.1 + 0.2 is not 0.3).
        ({"reserve_ratio": 0.1 + 0.2}, GRAPHQL, FLOAT),
        ({"reserve_ratio": 0.05}, GRAPHQL, FLOAT),
        ({"reserve_ratio": {"a": 1}}, GRAPHQL, None),
        ({"reserve_ratio": "1"}, "input.parameters.reserveRatio", "must be at least 0 and below 1 (got 1)"),
        ({"bed_day_min_los": "60"}, GRAPHQL, None),
        ({"merge_ledgers": "true"}, GRAPHQL, None),
        ({"rounding": None}, GRAPHQL, None),
        ({"rounding": "up"}, GRAPHQL, None),
        ({"readmission_days": 10**40}, GRAPHQL, None),
        ({"readmission_days": 367}, "input.parameters.readmissionDays", "must be between 0 and 366 (got 367)"),
        ({"review_min_experts": 10**40}, GRAPHQL, None),
        ({"review_min_experts": 0}, "input.parameters.reviewMinExperts", "must be between 1 and 50 (got 0)"),
        (
            {"itemized_factor": "9" * 30},
            "input.parameters.itemizedFactor",
            "must be below 1,000,000,000,000 in size",
        ),
        ({"itemized_factor": "100.01"}, "input.parameters.itemizedFactor", "must be between 0 and 100 (got 100.01)"),
        ({"high_k_1": "101"}, "input.parameters.highK1", "must be between 0 and 100 (got 101)"),
        ({"high_k_2": "101"}, "input.parameters.highK2", "must be between 0 and 100 (got 101)"),
        ({"high_k_3": "101"}, "input.parameters.highK3", "must be between 0 and 100 (got 101)"),
        (
            {"incomplete_max_ratio": "101"},
            "input.parameters.incompleteMaxRatio",
            "must be between 0 and 100 (got 101)",
        ),
        ({"low_ratio": "1.01"}, "input.parameters.lowRatio", "must be between 0 and 1 (got 1.01)"),
        ({"readmission_factor": "1.5"}, "input.parameters.readmissionFactor", "must be between 0 and 1 (got 1.5)"),
        (
            {"high_band_1_max_points": "1000001", "high_band_2_max_points": "1000001"},
            "input.parameters.highBand1MaxPoints",
            "must be between 0 and 1000000 (got 1000001)",
        ),
        (
            {"high_band_2_max_points": "1000001"},
            "input.parameters.highBand2MaxPoints",
            "must be between 0 and 1000000 (got 1000001)",
        ),
        ({"bed_day_min_los": 3661}, "input.parameters.bedDayMinLos", "must be between 0 and 3660 (got 3661)"),
        (
            {"review_long_stay_days": 3661},
            "input.parameters.reviewLongStayDays",
            "must be between 0 and 3660 (got 3661)",
        ),
        (
            {"review_small_group_cases": 10**6 + 1},
            "input.parameters.reviewSmallGroupCases",
            "must be between 0 and 1000000 (got 1000001)",
        ),
        ({"review_quota_ratio": "1.1"}, "input.parameters.reviewQuotaRatio", "must be between 0 and 1 (got 1.1)"),
        (
            {"saving_share_hospitals": "2"},
            "input.parameters.savingShareHospitals",
            "must be between 0 and 1 (got 2)",
        ),
        ({"overspend_share_fund": "2"}, "input.parameters.overspendShareFund", "must be between 0 and 1 (got 2)"),
        ({"prepay_ratio": "1.1"}, "input.parameters.prepayRatio", "must be between 0 and 1 (got 1.1)"),
        (
            {"provisional_point_value": "1000001"},
            "input.parameters.provisionalPointValue",
            "must be between 0 and 1000000 (got 1000001)",
        ),
        (
            {"violation_multiples": {"fraud": "101"}},
            "input.parameters.violationMultiples.fraud",
            "a known kind with a multiple from 0 to 100 (got 101)",
        ),
        ({"new_technology_taper": ["1"] * 11}, "input.parameters.newTechnologyTaper", "from one to 10 years' shares"),
        (
            {"readmission_exempt_adrgs": ["X" * 21]},
            "input.parameters.readmissionExemptAdrgs",
            "each an ADRG code of 1 to 20 characters",
        ),
        (
            {"incomplete_discharge_ways": [2, 99]},
            "input.parameters.incompleteDischargeWays",
            "discharge ways are 1, 2, 3, 4, 5, 9 (got [99])",
        ),
    ],
)
async def test_set_policy_refuses_malformed_parameters_by_field(api, city, parameters, field, reason):
    variables = {"t": city.a, "p": graphql_policy(parameters) if isinstance(parameters, dict) else parameters}
    r = await api.post(api.token(Role.region_admin, [city.a]), SET_POLICY, variables)
    if field is GRAPHQL:
        assert refused_by_graphql(r, reason), r.text
        return
    out = r.json()["data"]["setPolicy"]
    assert out["__typename"] == "ValidationError"
    (error,) = out["errors"]
    # The policy's reader (record policy 2025/employee), or the argument guard before it (setPolicy).
    assert error["record"] in ("policy 2025/employee", "setPolicy")
    assert (error["field"], reason in error["reason"]) == (field, True), error


@pytest.mark.parametrize(
    ("shares", "field", "reason"),
    [
        ([1, 2], GRAPHQL, None),
        ("H1:0.5", GRAPHQL, None),
        (7, GRAPHQL, None),
        ({"A1": {"x": 1}, "A2": "0.5"}, GRAPHQL, None),
        ({"A1": 0.1 + 0.2, "A2": "0.7"}, GRAPHQL, FLOAT),
        ({"A1": "1", "A2": "0.00000000000000000000000000001"}, "input.shares[1].share", "at most 6 decimal places"),
        ({"A1": "5e-7", "A2": "0.5"}, "input.shares[0].share", "at most 6 decimal places"),
        ({"A1": "0", "A2": "1"}, "input.shares[0].share", "must be above 0 and at most 1 (got 0)"),
        ({"A1": "1.5", "A2": "0.5"}, "input.shares[0].share", "must be above 0 and at most 1 (got 1.5)"),
        ({"A1": "0.333333", "A2": "0.666666"}, "input.shares", "the ratios must sum to exactly 1 (got 0.999999)"),
        ([("A1", "0.5"), ("A1", "0.5")], "input.shares[1].hospital", "duplicate: 'A1' is also shares[0]"),
        ({"A1": "0.5", "H-none": "0.5"}, "input.shares[1].hospital", "not a hospital of"),
    ],
)
async def test_set_alliance_refuses_malformed_shares_by_field(api, city, shares, field, reason):
    def code(k):
        return {"A1": city.a1, "A2": city.a2}.get(k, k)

    if isinstance(shares, dict):
        shares = [{"hospital": code(k), "share": v} for k, v in shares.items()]
    elif isinstance(shares, list) and shares and isinstance(shares[0], tuple):
        shares = [{"hospital": code(k), "share": v} for k, v in shares]
    r = await api.post(api.token(Role.region_admin, [city.a]), SET_ALLIANCE, {"t": city.a, "h": city.a1, "s": shares})
    if field is GRAPHQL:
        assert refused_by_graphql(r, reason), r.text
        return
    out = r.json()["data"]["setAlliance"]
    assert out["__typename"] == "ValidationError", out
    (error,) = out["errors"]
    assert error["record"] in ("alliance M1", "setAlliance")
    assert (error["field"], reason.replace("A1", city.a1) in error["reason"]) == (field, True), error


@pytest.mark.parametrize(
    ("parameters", "coefficients", "field", "reason"),
    [
        (None, [1.1], GRAPHQL, None),
        (None, "1.1", GRAPHQL, None),
        ("x", None, GRAPHQL, None),
        ({"reserve_rate": "1"}, None, GRAPHQL, None),
        ({"prepay_ratio": 0.9}, None, GRAPHQL, FLOAT),
        (None, None, "run", "no annual clearing run {run} in {tenant}"),
        (None, None, "run", "not an id"),
        (
            None,
            [{"hospital": "H1", "coefficient": "1.1"}, {"hospital": "H1", "coefficient": "1.2"}],
            "coefficients[1].hospital",
            "duplicate: 'H1' is also coefficients[0]",
        ),
    ],
)
async def test_simulate_against_run_refuses_malformed_arguments_by_field(
    api, city, parameters, coefficients, field, reason
):
    run = "R-1" if reason == "not an id" else str(uuid.uuid4())
    p = graphql_policy(parameters) if isinstance(parameters, dict) else parameters
    variables = {"t": city.a, "r": run, "p": p, "c": coefficients}
    r = await api.post(api.token(Role.region_admin, [city.a]), AGAINST_RUN, variables)
    if field is GRAPHQL:
        assert refused_by_graphql(r, reason), r.text
        return
    assert r.json()["data"]["simulateAgainstRun"] == {
        "__typename": "ValidationError",
        "errors": [{"record": f"run {run}", "field": field, "reason": reason.format(run=run, tenant=city.a)}],
    }
