"""The settlement and review API's contract (issue 11): a simulated year as typed figures (by hand,
the year of test_simulate.py), every scenario field reachable in the typed input, no JSON in any
settlement or review field, every mutation a union with its typed errors, and each mutation's
PermissionDenied for a caller who may not."""

from __future__ import annotations

import copy

import pytest

from dianshu.config import Settings
from dianshu.scope import Role
from dianshu.settlement.arithmetic.scenario import Scenario
from dianshu.settlement.arithmetic.simulate import simulate
from dianshu_graphql.schema import build_schema
from tests.api import Api
from tests.settlement.scenario_input import graphql_scenario
from tests.settlement.test_simulate import SCENARIO

SIM = """query($s: ScenarioInput!) { simulate(scenario: $s) { __typename
  ... on SimulationPayload { result {
    policy { reserveRatio savingShareHospitals }
    cases { id points type reason addon deduction }
    ledgers { ledger figures { totalBudget reserve pointsBudget feeForServiceFund fundTotal totalPoints selfPay
      pointValue hospitals alliances { alliance points due surplus } }
      hospitals { hospital alliance points deductions selfPay due prepaid balance } } } }
  ... on ValidationError { errors { record field reason } } } }"""


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def test_a_simulated_year_by_hand(api, city):
    token = api.token(Role.region_admin, [city.a])
    out = (await api.gql(token, SIM, {"s": graphql_scenario(SCENARIO)}))["simulate"]
    result = out["result"]
    assert result["policy"] == {"reserveRatio": "0.05", "savingShareHospitals": "0.85"}
    # C1 normal 100; C2 high outlier 200; C3 halved by C4's readmission: 50; C4 100; C5 itemized 50,
    # a serious split admission: 0 points and 50 deducted from H2 (test_simulate.py).
    assert [(c["id"], c["points"], c["type"], c["deduction"]) for c in result["cases"]] == [
        ("C1", "100.0000", "normal", "0"),
        ("C2", "200.0000", "high_outlier", "0"),
        ("C3", "50.0000", "normal", "0"),
        ("C4", "100.0000", "normal", "0"),
        ("C5", "0.0000", "itemized", "50.0000"),
    ]
    (led,) = result["ledgers"]
    # T 100,000, R 5,000, B 95,000; E 90,000 ≤ B: F = 90,000 + 0.85 × 5,000 = 94,250.00.
    # P = H1 300 + H2 (50 + 100 − 50) 100 = 400; S = 15,000; PV = (94,250 + 15,000) / 400 = 273.125.
    assert led["ledger"] == "employee"
    assert led["figures"] == {
        "totalBudget": "100000.00",
        "reserve": "5000.00",
        "pointsBudget": "95000.00",
        "feeForServiceFund": "90000.00",
        "fundTotal": "94250.00",
        "totalPoints": "400.0000",
        "selfPay": "15000",
        "pointValue": "273.125000",
        "hospitals": 2,
        "alliances": None,
    }
    # (Self-pay and prepaid as the scenario gave them; the figures computed to the fen.)
    # D_H1 = 300 × 273.125 − 10,000 = 71,937.50; score 80: 71,937.50 × 0.99 = 71,218.13 − 70,000 = 1,218.13.
    # D_H2 = 100 × 273.125 − 5,000 = 22,312.50; score 100: 22,312.50 − 20,000 = 2,312.50.
    assert led["hospitals"] == [
        {
            "hospital": "H1",
            "alliance": None,
            "points": "300.0000",
            "deductions": "0.0000",
            "selfPay": "10000",
            "due": "71937.50",
            "prepaid": "70000",
            "balance": "1218.13",
        },
        {
            "hospital": "H2",
            "alliance": None,
            "points": "100.0000",
            "deductions": "50.0000",
            "selfPay": "5000",
            "due": "22312.50",
            "prepaid": "20000",
            "balance": "2312.50",
        },
    ]
    # The typed answer is the JSON one's, field by field.
    raw = simulate(copy.deepcopy(SCENARIO))
    assert [c["points"] for c in raw["cases"]] == [c["points"] for c in result["cases"]]
    assert raw["ledgers"]["employee"]["F"] == led["figures"]["fundTotal"]


async def test_an_alliance_technology_and_review_scenario_through_the_typed_input(api, city):
    # Every kind of scenario field the JSON takes, through ScenarioInput: an alliance of H1 and H2
    # (shares as a list), a new technology (useYear), a special review with points, prepaid per
    # fund, groups' flags; the typed result is the JSON result of the same scenario.
    s = copy.deepcopy(SCENARIO)
    s["policy"] = {"saving_share_hospitals": "0.8", "violation_multiples": {"split_admission": "2"}}
    s["alliances"] = [{"id": "M1", "lead": "H1", "shares": {"H1": "0.6", "H2": "0.4"}}]
    s["groups"].append({"drg": "G2", "avg_cost": "5000", "base_points": "50", "stable": False, "tcm": True})
    s["cases"][0]["new_technologies"] = [{"code": "T1", "cost": "1000", "year": 2}]
    s["cases"][1]["special_review"] = {"outcome": "add_points", "points": "250"}
    s["hospitals"][1]["prepaid"] = {"employee": "20000", "resident": "0"}
    token = api.token(Role.region_admin, [city.a])
    out = (await api.gql(token, SIM, {"s": graphql_scenario(s)}))["simulate"]
    assert out["__typename"] == "SimulationPayload", out
    raw = simulate(copy.deepcopy(s))
    got = out["result"]
    assert [(c["id"], c["points"], c["addon"]) for c in got["cases"]] == [
        (c["id"], c["points"], c.get("addon", "0")) for c in raw["cases"]
    ]
    (led,) = got["ledgers"]
    assert led["figures"]["alliances"] == [
        {"alliance": a, **{k: v for k, v in x.items()}} for a, x in raw["ledgers"]["employee"]["alliances"].items()
    ]
    assert {h["hospital"]: (h["due"], h["alliance"]) for h in led["hospitals"]} == {
        h: (x["due"], x.get("alliance")) for h, x in raw["ledgers"]["employee"]["hospitals"].items()
    }
    # New technology, year 2 of the taper (0.7): C1's add-on is 0.7 × 1,000 / 10,000 × 100 = 7 points.
    assert got["cases"][0]["addon"] == "7.0000"
    # A member listed twice is refused at the list's path (a JSON object could not say it).
    twice = graphql_scenario(s)
    twice["alliances"][0]["shares"].append({"hospital": "H1", "share": "0"})
    out = (await api.gql(token, SIM, {"s": twice}))["simulate"]
    assert out["errors"] == [
        {
            "record": "scenario",
            "field": "scenario.alliances[0].shares[2].hospital",
            "reason": "duplicate: 'H1' is also shares[0]",
        }
    ]
    # A share that breaks the sum: the alliance's shares, at the list.
    bad = graphql_scenario(s)
    bad["alliances"][0]["shares"][1]["share"] = "0.3"
    out = (await api.gql(token, SIM, {"s": bad}))["simulate"]
    assert {"record": "scenario", "field": "scenario.alliances[0].shares", "reason": "must sum to 1 (got 0.9)"} in out[
        "errors"
    ]


def _schema():
    return build_schema(
        Settings(profile="prod", database_url="postgresql://x@y/z", redis_url="redis://y", jwt_secret="s")
    )._schema


def _named(t):
    while hasattr(t, "of_type"):
        t = t.of_type
    return t


# The root fields of the settlement and review domains.
QUERIES = {
    "policy",
    "simulate",
    "simulateAgainstRun",
    "budgets",
    "settlementRuns",
    "settlementRun",
    "statement",
    "settlementOverview",
    "pointsRuns",
    "casePoints",
    "reviews",
}
MUTATIONS = {
    "setPolicy",
    "setBudget",
    "computePoints",
    "runSettlement",
    "publishSettlementRun",
    "setAlliance",
    "setEvaluationScore",
    "recordAuditDeduction",
    "confirmViolation",
    "startSimulation",
    "applyForReview",
    "precheckReview",
    "assignReviewExperts",
    "giveReviewOpinion",
    "decideReview",
    "appealReview",
    "acceptReview",
    "addReviewExpert",
}


def test_no_json_in_the_settlement_and_review_api():
    schema = _schema()
    seen: set[str] = set()
    found: list[str] = []

    def walk(t, where):
        t = _named(t)
        if t.name == "JSON":
            found.append(where)
        if t.name in seen or (not hasattr(t, "fields") and not hasattr(t, "types")):
            return
        seen.add(t.name)
        for m in getattr(t, "types", ()):  # union members
            walk(m, f"{where}|{m.name}")
        for name, f in t.fields.items() if hasattr(t, "fields") else ():
            walk(f.type, f"{t.name}.{name}")
            for arg, a in getattr(f, "args", {}).items():
                walk(a.type, f"{t.name}.{name}({arg})")

    roots = [(schema.query_type, QUERIES), (schema.mutation_type, MUTATIONS)]
    for root, names in roots:
        assert names <= set(root.fields), names - set(root.fields)
        for name in names:
            f = root.fields[name]
            walk(f.type, f"{root.name}.{name}")
            for arg, a in f.args.items():
                walk(a.type, f"{root.name}.{name}({arg})")
    assert found == []
    # No …Out names are left.
    assert not {"SettlementLineOut", "SettlementRunOut", "PointsRunOut", "CasePointOut"} & set(schema.type_map)


def test_every_mutation_returns_a_union_with_its_typed_errors():
    schema = _schema()
    for name in MUTATIONS:
        t = _named(schema.mutation_type.fields[name].type)
        members = {m.name for m in getattr(t, "types", ())}
        assert {"ValidationError", "PermissionDenied"} <= members, (name, t)
        assert len(members) >= 3, (name, members)


def test_the_scenario_input_has_every_scenario_field():
    schema = _schema()
    from strawberry.utils.str_converters import to_camel_case

    def check(model, input_name):
        fields = schema.type_map[input_name].fields
        for name in model.model_fields:
            want = "useYear" if (model.__name__, name) == ("NewTechnologyIn", "year") else to_camel_case(name)
            assert want in fields, (input_name, want)
        return fields

    check(Scenario, "ScenarioInput")
    from dianshu.settlement.arithmetic import scenario as sc

    for model, name in [
        (sc.Standard, "ScenarioStandardInput"),
        (sc.Group, "ScenarioGroupInput"),
        (sc.Hospital, "ScenarioHospitalInput"),
        (sc.Prepaid, "ScenarioPrepaidInput"),
        (sc.Alliance, "ScenarioAllianceInput"),
        (sc.Case, "ScenarioCaseInput"),
        (sc.ViolationIn, "ScenarioViolationInput"),
        (sc.SpecialReview, "ScenarioSpecialReviewInput"),
        (sc.NewTechnologyIn, "ScenarioNewTechnologyInput"),
        (sc.LedgerBudgetIn, "ScenarioLedgerBudgetInput"),
        (sc.Budgets, "ScenarioBudgetInput"),
    ]:
        assert len(check(model, name)) == len(model.model_fields), name
    # Every field of these types is described.
    for name, t in schema.type_map.items():
        if name.startswith(("Scenario", "PolicyParameter", "ViolationMultiple", "SettlementFigures")):
            assert all(f.description for f in t.fields.values()), name


DENIED = {
    "setPolicy": 'setPolicy(input: {tenant: "A", year: 2025, ledger: employee, parameters: {}, reason: "r"})',
    "setBudget": 'setBudget(input: {tenant: "A", year: 2025, growthRate: "0", reason: "r"})',
    "computePoints": 'computePoints(tenant: "A", year: 2025)',
    "runSettlement": 'runSettlement(input: {tenant: "A", kind: annual, year: 2025})',
    "publishSettlementRun": 'publishSettlementRun(tenant: "A", id: "00000000-0000-0000-0000-000000000000")',
    "setAlliance": 'setAlliance(input: {tenant: "A", id: "M", name: "M", lead: "H", shares: []})',
    "setEvaluationScore": 'setEvaluationScore(tenant: "A", hospital: "H", year: 2025, score: "90")',
    "recordAuditDeduction": 'recordAuditDeduction(input: {tenant: "A", hospital: "H", year: 2025, month: 1, '
    'amount: "1.00", reference: "R", reason: "r"})',
    "confirmViolation": 'confirmViolation(input: {tenant: "A", hospital: "H", listId: "L", kind: fraud, reason: "r"})',
    "startSimulation": 'startSimulation(tenant: "A")',
    "precheckReview": 'precheckReview(input: {tenant: "A", review: "R", reason: "r"})',
    "assignReviewExperts": 'assignReviewExperts(input: {tenant: "A", review: "R", reason: "r"})',
    "giveReviewOpinion": 'giveReviewOpinion(input: {tenant: "A", review: "R", outcome: keep, reason: "r"})',
    "decideReview": 'decideReview(input: {tenant: "A", review: "R", outcome: keep, reason: "r"})',
    "appealReview": 'appealReview(input: {tenant: "A", review: "R", reason: "r"})',
    "acceptReview": 'acceptReview(input: {tenant: "A", review: "R", reason: "r"})',
    "applyForReview": 'applyForReview(input: {tenant: "A", hospital: "H", listId: "L", request: "r"})',
    "addReviewExpert": 'addReviewExpert(tenant: "A", expert: "e", name: "n")',
}


def test_every_mutation_has_a_permission_row():
    assert set(DENIED) == MUTATIONS


@pytest.mark.parametrize("name", sorted(DENIED))
async def test_each_mutation_returns_permission_denied_as_data(api, city, name):
    # The city viewer may change nothing of region A's; region B's admin nothing of A's either
    # (a hospital of A applying for review is the one role that may: it tries region B's).
    field = DENIED[name].replace('"A"', f'"{city.a}"')
    token = api.token(Role.city_viewer, [city.city])
    if name == "startSimulation":  # the city's viewers may simulate
        token = api.token(Role.hospital_user, [city.a], city.a1)
    if name in ("applyForReview", "appealReview", "acceptReview"):
        field = DENIED[name].replace('"A"', f'"{city.b}"')
        token = api.token(Role.hospital_user, [city.a], city.a1)
    out = await api.gql(token, "mutation { " + field + " { __typename ... on PermissionDenied { message } } }")
    assert out[name]["__typename"] == "PermissionDenied" and out[name]["message"], out
