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
        ({"readmission_days": 10**40}, "parameters.readmission_days", f"must be between 0 and 366 (got {10**40})"),
        ({"readmission_days": 367}, "parameters.readmission_days", "must be between 0 and 366 (got 367)"),
        ({"review_min_experts": 10**40}, "parameters.review_min_experts", f"must be between 1 and 50 (got {10**40})"),
        ({"review_min_experts": 0}, "parameters.review_min_experts", "must be between 1 and 50 (got 0)"),
        (
            {"itemized_factor": "9" * 30},
            "parameters.itemized_factor",
            f'must be below 1,000,000,000,000 in size (got "{"9" * 30}")',
        ),
        ({"itemized_factor": "100.01"}, "parameters.itemized_factor", "must be between 0 and 100 (got 100.01)"),
        ({"high_k_1": "101"}, "parameters.high_k_1", "must be between 0 and 100 (got 101)"),
        ({"high_k_2": "101"}, "parameters.high_k_2", "must be between 0 and 100 (got 101)"),
        ({"high_k_3": "101"}, "parameters.high_k_3", "must be between 0 and 100 (got 101)"),
        ({"incomplete_max_ratio": "101"}, "parameters.incomplete_max_ratio", "must be between 0 and 100 (got 101)"),
        ({"low_ratio": "1.01"}, "parameters.low_ratio", "must be between 0 and 1 (got 1.01)"),
        ({"readmission_factor": "1.5"}, "parameters.readmission_factor", "must be between 0 and 1 (got 1.5)"),
        (
            {"high_band_1_max_points": "1000001", "high_band_2_max_points": "1000001"},
            "parameters.high_band_1_max_points",
            "must be between 0 and 1000000 (got 1000001)",
        ),
        (
            {"high_band_2_max_points": "1000001"},
            "parameters.high_band_2_max_points",
            "must be between 0 and 1000000 (got 1000001)",
        ),
        ({"bed_day_min_los": 3661}, "parameters.bed_day_min_los", "must be between 0 and 3660 (got 3661)"),
        ({"review_long_stay_days": 3661}, "parameters.review_long_stay_days", "must be between 0 and 3660 (got 3661)"),
        (
            {"review_small_group_cases": 10**6 + 1},
            "parameters.review_small_group_cases",
            "must be between 0 and 1000000 (got 1000001)",
        ),
        ({"review_quota_ratio": "1.1"}, "parameters.review_quota_ratio", "must be between 0 and 1 (got 1.1)"),
        ({"saving_share_hospitals": "2"}, "parameters.saving_share_hospitals", "must be between 0 and 1 (got 2)"),
        ({"overspend_share_fund": "2"}, "parameters.overspend_share_fund", "must be between 0 and 1 (got 2)"),
        ({"prepay_ratio": "1.1"}, "parameters.prepay_ratio", "must be between 0 and 1 (got 1.1)"),
        (
            {"provisional_point_value": "1000001"},
            "parameters.provisional_point_value",
            "must be between 0 and 1000000 (got 1000001)",
        ),
        (
            {"violation_multiples": {"fraud": "101"}},
            "parameters.violation_multiples.fraud",
            "a known kind with a multiple from 0 to 100 (got 101)",
        ),
        ({"new_technology_taper": ["1"] * 11}, "parameters.new_technology_taper", "from one to 10 years' shares"),
        (
            {"readmission_exempt_adrgs": ["X" * 21]},
            "parameters.readmission_exempt_adrgs",
            "each an ADRG code of 1 to 20 characters",
        ),
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
        (
            {"A1": "1", "A2": "0.00000000000000000000000000001"},
            "shares.A2",
            "at most 6 decimal places (got 0.00000000000000000000000000001)",
        ),
        ({"A1": "5e-1", "A2": "0.5"}, "shares.A1", "must be a plain decimal such as \"0.6\" (got '5e-1')"),
        ({"A1": "0", "A2": "1"}, "shares.A1", "must be above 0 and at most 1 (got 0)"),
        ({"A1": "1.5", "A2": "0.5"}, "shares.A1", "must be above 0 and at most 1 (got 1.5)"),
        ({"A1": "0.333333", "A2": "0.666666"}, "shares", "the ratios must sum to exactly 1 (got 0.999999)"),
    ],
)
async def test_set_alliance_refuses_malformed_shares_by_field(api, city, shares, field, reason):
    shares = {city.a1 if k == "A1" else city.a2: v for k, v in shares.items()} if isinstance(shares, dict) else shares
    field = field.replace("A1", city.a1).replace("A2", city.a2)
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
