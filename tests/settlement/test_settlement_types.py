"""The typed settlement API (issue 11) on the hand-settled year of tests/settlement/world.py: a
run's figures by name, its recorded inputs, its lines as a connection (one query per request for
every run), statements, points runs and case points, the city's overview, the typed errors of
publishing and comparing, and the schema's settlement fields free of JSON."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal as D

import pytest

from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.scope import Role
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.runs import regional
from dianshu_graphql.context import Context
from dianshu_graphql.pagination import encode_cursor
from dianshu_graphql.types import policies as policy_types
from dianshu_graphql.types.settlement import graphql_path
from tests.api import Api
from tests.settlement.world import budgeted_year, settle
from tests.test_standards_db import builtin_versions  # noqa: F401


@pytest.fixture
async def year(settings, db, city, dispatcher, builtin_versions):  # noqa: F811
    """March and April pre-settled and published (provisional PV 100), the year cleared (a draft);
    a2's evaluation score 90. The figures are test_runs.py's, settled by hand there."""
    region = await budgeted_year(
        db, city, builtin_versions["zhejiang_2022"], {"provisional_point_value": "100"}, "first year"
    )
    async with scoped_session(db, region) as s:
        await regional.set_evaluation_score(s, region, city.a, city.a2, 2025, "90")
    api = Api(settings, db)
    token = api.token(Role.region_admin, [city.a])
    runs = []
    for month in (3, 4):
        runs.append((await settle(db, region, city.a, "monthly", month=month))["runs"][0]["id"])
        out = await api.gql(token, PUBLISH, {"t": city.a, "i": runs[-1]})
        assert out["publishSettlementRun"]["__typename"] == "RunPayload"
    annual = (await settle(db, region, city.a, "annual"))["runs"][0]["id"]
    api.world = (db, region)
    yield api, runs[0], annual
    await api.client.aclose()


PUBLISH = """mutation($t: String!, $i: ID!) { publishSettlementRun(tenant: $t, id: $i) { __typename
  ... on RunPayload { run { status } } ... on NotFound { record field } ... on StateConflict { field reason }
  ... on ValidationError { errors { field reason } } ... on PermissionDenied { message } } }"""
FIGURES = """totalBudget reserve pointsBudget feeForServiceFund fundTotal totalPoints selfPay pointValue
  pointValueExact provisionalPointValue due payable holdback payment balance withheld hospitals
  alliances { alliance lead points due surplus }"""
RUNS = (
    """query($t: String!, $k: SettlementKind, $a: String) {
  settlementRuns(tenant: $t, year: 2025, kind: $k, status: published, after: $a, first: 1) {
    pageInfo { hasNextPage endCursor } nodes { kind month ledger version status figures { """
    + FIGURES
    + """ } } } }"""
)
ANNUAL = (
    """query($t: String!, $i: ID!, $a: String) { settlementRun(tenant: $t, id: $i) { kind status
  figures { """
    + FIGURES
    + """ }
  inputs { pointsRun pointsRunVersion policy { ledger cityVersion regionVersion parameters { provisionalPointValue
    reserveRatio rounding violationMultiples { fraud } } } provisionalPointValueSource paidBeforeRun budgetId
    budgetVersion prepaidRun auditDeductions { hospital amount } scores { hospital score }
    alliances { alliance lead shares { hospital share } } }
  lines(first: 1, after: $a) { pageInfo { hasNextPage endCursor } nodes { hospital cases points due prepaid score
    balance withheld auditDeductions payable } } } }"""
)


async def test_run_figures_inputs_and_lines_by_name(city, year):
    api, _, annual = year
    token = api.token(Role.region_admin, [city.a])
    # The published runs, a page of one: March, then April.
    first = (await api.gql(token, RUNS, {"t": city.a, "k": "monthly"}))["settlementRuns"]
    assert first["pageInfo"]["hasNextPage"] is True
    (m,) = first["nodes"]
    # March year to date: a1's 200 points at the provisional PV 100: due 16,000.00, payable 15,200.00.
    assert (m["kind"], m["month"], m["ledger"], m["status"]) == ("monthly", 3, "employee", "published")
    assert m["figures"] == {
        "totalBudget": None,
        "reserve": None,
        "pointsBudget": None,
        "feeForServiceFund": None,
        "fundTotal": None,
        "totalPoints": "200.0000",
        "selfPay": "4000.00",
        "pointValue": None,
        "pointValueExact": "100",
        "provisionalPointValue": "100.000000",
        "due": "16000.00",
        "payable": "15200.00",
        "holdback": "800.00",
        "payment": "15200.00",
        "balance": None,
        "withheld": None,
        "hospitals": 1,
        "alliances": None,
    }
    after = first["pageInfo"]["endCursor"]
    second = (await api.gql(token, RUNS, {"t": city.a, "k": "monthly", "a": after}))["settlementRuns"]
    assert [n["month"] for n in second["nodes"]] == [4] and second["pageInfo"]["hasNextPage"] is False

    run = (await api.gql(token, ANNUAL, {"t": city.a, "i": annual}))["settlementRun"]
    # T 60,000, R 3,000, B 57,000, E 56,000, F 56,850.00, P 600, S 8,000, PV 108.083333 (test_runs.py).
    f = run["figures"]
    assert (f["totalBudget"], f["reserve"], f["pointsBudget"], f["feeForServiceFund"], f["fundTotal"]) == (
        "60000.00",
        "3000.00",
        "57000.00",
        "56000.00",
        "56850.00",
    )
    assert (f["totalPoints"], f["selfPay"], f["pointValue"], f["hospitals"], f["alliances"]) == (
        "600.0000",
        "8000.00",
        "108.083333",
        2,
        [],
    )
    # Σ due = F; Σ balance = 11,225.00 + 3,672.88; withheld 152.12 (a2's score 90).
    assert (f["due"], f["balance"], f["withheld"], f["provisionalPointValue"]) == (
        "56850.00",
        "14897.88",
        "152.12",
        None,
    )
    inputs = run["inputs"]
    assert inputs["policy"]["ledger"] == "employee" and inputs["policy"]["cityVersion"] is None
    assert inputs["policy"]["regionVersion"] == 1
    assert inputs["policy"]["parameters"] == {
        "provisionalPointValue": "100",
        "reserveRatio": "0.05",
        "rounding": "half_up",
        "violationMultiples": {"fraud": "5"},
    }
    assert (inputs["budgetVersion"], inputs["scores"], inputs["auditDeductions"], inputs["alliances"]) == (
        1,
        [{"hospital": city.a2, "score": "90.00"}],
        [],
        [],
    )
    assert inputs["prepaidRun"] and inputs["paidBeforeRun"] is None and inputs["pointsRunVersion"] == 1
    # The lines, a page of one by hospital code.
    page = run["lines"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["nodes"] == [
        {
            "hospital": city.a1,
            "cases": 3,
            "points": "300.0000",
            "due": "26425.00",
            "prepaid": "15200.00",
            "score": None,
            "balance": "11225.00",
            "withheld": "0.00",
            "auditDeductions": "0.00",
            "payable": None,
        }
    ]
    rest = await api.gql(token, ANNUAL, {"t": city.a, "i": annual, "a": page["pageInfo"]["endCursor"]})
    (a2,) = rest["settlementRun"]["lines"]["nodes"]
    assert (a2["hospital"], a2["due"], a2["score"], a2["balance"], a2["withheld"]) == (
        city.a2,
        "30425.00",
        "90.00",
        "3672.88",
        "152.12",
    )
    # A hospital sees the region's totals and its own line, not the inputs or the alliances.
    mine = await api.gql(api.token(Role.hospital_user, [city.a], city.a2), ANNUAL, {"t": city.a, "i": annual})
    mine = mine["settlementRun"]
    assert mine["inputs"] is None and mine["figures"]["alliances"] is None
    assert [x["hospital"] for x in mine["lines"]["nodes"]] == [city.a2]


async def test_hostile_line_cursors_are_refused_as_after(city, year):
    api, _, annual = year
    q = (
        "query($t: String!, $i: ID!, $a: String) { settlementRun(tenant: $t, id: $i) "
        "{ lines(after: $a) { nodes { hospital } } } }"
    )
    for key in (["H\x00"], ["\ud800"], [1], ["a", "b"]):
        r = await api.post(
            api.token(Role.region_admin, [city.a]), q, {"t": city.a, "i": annual, "a": encode_cursor(key)}
        )
        errors = r.json()["errors"]
        assert [e["extensions"] for e in errors] == [{"code": "BAD_USER_INPUT", "field": "after"}], r.text
    # And `first` outside 1 to 100 is refused naming it, as on every connection.
    bounded = (
        "query($t: String!, $i: ID!, $f: Int) { settlementRun(tenant: $t, id: $i) "
        "{ lines(first: $f) { nodes { hospital } } } }"
    )
    for first in (0, -5, 101, 5000):
        r = await api.post(api.token(Role.region_admin, [city.a]), bounded, {"t": city.a, "i": annual, "f": first})
        errors = r.json()["errors"]
        assert [e["extensions"] for e in errors] == [{"code": "BAD_USER_INPUT", "field": "first"}], r.text
        assert f"first: must be between 1 and 100 (got {first})" in errors[0]["message"]


async def test_publish_returns_typed_errors(city, year):
    api, march, annual = year
    token = api.token(Role.region_admin, [city.a])

    async def publish(tok, run):
        return (await api.gql(tok, PUBLISH, {"t": city.a, "i": run}))["publishSettlementRun"]

    assert await publish(token, march) == {"__typename": "RunPayload", "run": {"status": "published"}}  # a no-op
    missing = str(uuid.uuid4())
    assert await publish(token, missing) == {"__typename": "NotFound", "record": f"run {missing}", "field": "id"}
    assert (await publish(token, "R-1"))["__typename"] == "ValidationError"
    assert (await publish(api.token(Role.hospital_user, [city.a], city.a1), annual))["__typename"] == (
        "PermissionDenied"
    )
    # A re-run of the year: the first draft is no longer the newest; April's re-run cannot pay April twice.
    db, scope = api.world
    await settle(db, scope, city.a, "annual")
    stale = await publish(token, annual)
    assert stale == {
        "__typename": "StateConflict",
        "field": "id",
        "reason": "version 1 is not the newest (2): publish the newest re-run",
    }
    april_again = (await settle(db, scope, city.a, "monthly", month=4))["runs"][0]["id"]
    twice = await publish(token, april_again)
    assert twice["__typename"] == "StateConflict"
    assert twice["reason"].startswith("2025-04 of employee is already published")


STATEMENT = """query($t: String!, $r: ID!, $h: String!) { statement(tenant: $t, run: $r, hospital: $h) {
  tenant hospital hospitalName alliance run { kind month status } line { hospital due payable payment paidBefore }
  months { month cases points selfPay payment } } }"""


async def test_statement_points_runs_case_points_and_overview(city, year):
    api, march, _ = year
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    region = api.token(Role.region_admin, [city.a])
    runs = (await api.gql(region, RUNS, {"t": city.a, "k": "monthly"}))["settlementRuns"]
    april = (await api.gql(region, RUNS, {"t": city.a, "k": "monthly", "a": runs["pageInfo"]["endCursor"]}))[
        "settlementRuns"
    ]["nodes"][0]
    assert april["month"] == 4
    # The statement of the published March run: a1's March (A-1, A-2: 200 points, S 4,000, paid 15,200.00).
    st = (await api.gql(a1, STATEMENT, {"t": city.a, "r": march, "h": city.a1}))["statement"]
    assert (st["tenant"], st["hospital"], st["alliance"], st["run"]) == (
        city.a,
        city.a1,
        None,
        {"kind": "monthly", "month": 3, "status": "published"},
    )
    assert st["line"] == {
        "hospital": city.a1,
        "due": "16000.00",
        "payable": "15200.00",
        "payment": "15200.00",
        "paidBefore": "0.00",
    }
    assert st["months"] == [
        {"month": "2025-01", "cases": 0, "points": "0.0000", "selfPay": "0.00", "payment": "0.00"},
        {"month": "2025-02", "cases": 0, "points": "0.0000", "selfPay": "0.00", "payment": "0.00"},
        {"month": "2025-03", "cases": 2, "points": "200.0000", "selfPay": "4000.00", "payment": "15200.00"},
    ]
    # Not another hospital's.
    assert (await api.gql(a1, STATEMENT, {"t": city.a, "r": march, "h": city.a2}))["statement"] is None

    points = (
        await api.gql(
            region,
            """query($t: String!) { pointsRuns(tenant: $t, year: 2025) { nodes { id throughMonth version
              summary { cases types { type cases } points { ledger points } }
              inputs { standardLabel avgCostAll cases hospitals { hospital coefficient type }
                policies { ledger parameters { provisionalPointValue } } } } } }""",
            {"t": city.a},
        )
    )["pointsRuns"]["nodes"]
    year_run = next(p for p in points if p["throughMonth"] == 12)
    # 4 cases: A-4 a high outlier (300 points), three normal (100 each): 600 points.
    assert year_run["summary"] == {
        "cases": 4,
        "types": [{"type": "high_outlier", "cases": 1}, {"type": "normal", "cases": 3}],
        "points": [{"ledger": "employee", "points": "600.0000"}],
    }
    assert year_run["inputs"]["standardLabel"] == f"test {city.city}" and year_run["inputs"]["cases"] == 4
    assert year_run["inputs"]["avgCostAll"] == "8000.00"
    # Both ledgers' parameters: the region set employee's (resident's are SPEC's: 0 when there is no final PV).
    assert year_run["inputs"]["policies"] == [
        {"ledger": "employee", "parameters": {"provisionalPointValue": "100"}},
        {"ledger": "resident", "parameters": {"provisionalPointValue": "0"}},
    ]
    hosp_points = await api.gql(
        a1, "query($t: String!) { pointsRuns(tenant: $t, year: 2025) { nodes { inputs { cases } } } }", {"t": city.a}
    )
    assert all(n["inputs"] is None for n in hosp_points["pointsRuns"]["nodes"])
    cp = (
        await api.gql(
            region,
            """query($t: String!, $p: ID!) { casePoints(tenant: $t, pointsRun: $p, type: high_outlier) {
              nodes { listId hospital ledger month drg type points addon deduction } } }""",
            {"t": city.a, "p": year_run["id"]},
        )
    )["casePoints"]["nodes"]
    assert cp == [
        {
            "listId": "A-4",
            "hospital": city.a2,
            "ledger": "employee",
            "month": 4,
            "drg": "ES23",
            "type": "high_outlier",
            "points": "300.0000",
            "addon": "0.0000",
            "deduction": "0.0000",
        }
    ]

    viewer = api.token(Role.city_viewer, [city.city])
    ov = (
        await api.gql(
            viewer,
            """query($c: String!) { settlementOverview(tenant: $c, year: 2025) { region ledger version status
              figures { totalBudget fundTotal totalPoints pointValue hospitals alliances { alliance } } } }""",
            {"c": city.city},
        )
    )["settlementOverview"]
    assert ov == [
        {
            "region": city.a,
            "ledger": "employee",
            "version": 1,
            "status": "draft",
            "figures": {
                "totalBudget": "60000.00",
                "fundTotal": "56850.00",
                "totalPoints": "600.0000",
                "pointValue": "108.083333",
                "hospitals": 2,
                "alliances": None,
            },
        }
    ]


AGAINST = """query($t: String!, $r: ID!, $c: [HospitalCoefficientInput!], $p: PolicyParametersInput) {
  simulateAgainstRun(tenant: $t, run: $r, coefficients: $c, parameters: $p) { __typename
  ... on RunComparisonPayload { comparison { status ledger year changes { growthRate parameters { savingShareHospitals }
    coefficients { hospital coefficient } } published { fundTotal pointValue } simulated { fundTotal pointValue }
    hospitals { hospital publishedDue simulatedDue difference publishedBalance simulatedBalance } } }
  ... on ValidationError { errors { record field reason } } } }"""


async def test_simulate_against_run_typed(city, year):
    api, _, annual = year
    token = api.token(Role.region_admin, [city.a])
    # The saving share at 0.5 instead of 0.85: F = 56,000 + 0.5 × 1,000 = 56,500.00;
    # PV = (56,500 + 8,000) / 600 = 107.5; D_a1 = 300 × 107.5 − 6,000 = 26,250.00 (−175.00).
    out = (await api.gql(token, AGAINST, {"t": city.a, "r": annual, "p": {"savingShareHospitals": "0.5"}}))[
        "simulateAgainstRun"
    ]
    c = out["comparison"]
    assert (c["status"], c["ledger"], c["year"]) == ("draft", "employee", 2025)
    assert c["changes"] == {"growthRate": "0.000000", "parameters": {"savingShareHospitals": "0.5"}, "coefficients": []}
    assert (c["published"], c["simulated"]) == (
        {"fundTotal": "56850.00", "pointValue": "108.083333"},
        {"fundTotal": "56500.00", "pointValue": "107.500000"},
    )
    row = c["hospitals"][0]
    assert (row["hospital"], row["publishedDue"], row["simulatedDue"], row["difference"]) == (
        city.a1,
        "26425.00",
        "26250.00",
        "-175.00",
    )
    # A coefficient for a hospital not of the region: refused at the list entry's path.
    out = (
        await api.gql(
            token,
            AGAINST,
            {
                "t": city.a,
                "r": annual,
                "c": [{"hospital": city.a1, "coefficient": "1"}, {"hospital": "HX", "coefficient": "1.1"}],
            },
        )
    )["simulateAgainstRun"]
    assert out["errors"] == [
        {"record": f"run {annual}", "field": "coefficients[1].hospital", "reason": f"not a hospital of {city.a}"}
    ]
    out = (await api.gql(token, AGAINST, {"t": city.a, "r": annual, "c": [{"hospital": city.a1, "coefficient": "0"}]}))[
        "simulateAgainstRun"
    ]
    assert out["errors"] == [
        {"record": f"run {annual}", "field": "coefficients[0].coefficient", "reason": "must be positive (got 0)"}
    ]


async def test_run_lines_load_in_one_transaction_for_every_run(city, year, monkeypatch):
    # Five runs (two monthly, published; the annual draft; two re-runs): their lines are one
    # transaction, not one per run. The count fails if lines go back to one query per parent.
    api, _, _ = year
    opened: list[int] = []
    real = Context.session

    def counting(self):
        opened.append(1)
        return real(self)

    token = api.token(Role.region_admin, [city.a])
    q = "query($t: String!) { settlementRuns(tenant: $t, year: 2025) { nodes { id lines { nodes { hospital } } } } }"
    monkeypatch.setattr(Context, "session", counting)
    runs = (await api.gql(token, q, {"t": city.a}))["settlementRuns"]["nodes"]
    assert len(runs) == 3 and all(r["lines"]["nodes"] for r in runs)
    assert len(opened) == 2  # the runs, then every run's lines


def test_policy_types_hold_every_parameter():
    names = {f.name for f in dataclasses.fields(Policy)}
    for cls in (
        policy_types.PolicyParameters,
        policy_types.PolicyParameterChanges,
        policy_types.PolicyParametersInput,
    ):
        assert {f.name for f in dataclasses.fields(cls)} == names, cls
    kinds = set(Policy().violation_multiples)
    for cls in (
        policy_types.ViolationMultiples,
        policy_types.ViolationMultipleChanges,
        policy_types.ViolationMultiplesInput,
    ):
        assert {f.name for f in dataclasses.fields(cls)} == kinds, cls
    # Every parameter has its description.
    assert set(policy_types.D) == names and set(policy_types.V) == kinds
    # The parameters in force as the output type, from SPEC's defaults.
    p = policy_types.PolicyParameters.of(Policy())
    assert (p.reserve_ratio, p.prepay_ratio, p.rounding, p.violation_multiples.fraud) == (
        D("0.05"),
        D("0.95"),
        policy_types.Rounding.half_up,
        D(5),
    )


def test_graphql_paths():
    assert graphql_path("cases[1].los_days", "scenario") == "scenario.cases[1].losDays"
    assert graphql_path("parameters.reserve_ratio", "input") == "input.parameters.reserveRatio"
    assert graphql_path("policy.violation_multiples.fraud", "scenario") == "scenario.policy.violationMultiples.fraud"
    assert graphql_path("cases[0].new_technologies[2].year", "scenario", {"year": "useYear"}) == (
        "scenario.cases[0].newTechnologies[2].useYear"
    )
    assert graphql_path("score") == "score"


IDS = """query($t: String!, $i: ID!) { settlementRun(tenant: $t, id: $i) { id databaseId pointsRun } }"""


async def test_arguments_take_a_run_s_global_id_or_its_database_id(city, year):
    api, march, annual = year
    token = api.token(Role.region_admin, [city.a])
    run = (await api.gql(token, IDS, {"t": city.a, "i": annual}))["settlementRun"]
    assert run["databaseId"] == annual and run["id"] != annual
    assert (await api.gql(token, IDS, {"t": city.a, "i": run["id"]}))["settlementRun"] == run
    node = "query($i: ID!) { node(id: $i) { __typename ... on SettlementRun { databaseId } } }"
    assert (await api.gql(token, node, {"i": run["id"]}))["node"] == {
        "__typename": "SettlementRun",
        "databaseId": annual,
    }
    # The run's points run, by its databaseId (as the run names it) and by its global id (as pointsRuns shows it).
    points = (
        await api.gql(
            token,
            "query($t: String!) { pointsRuns(tenant: $t, year: 2025) { nodes { id databaseId } } }",
            {"t": city.a},
        )
    )["pointsRuns"]["nodes"]
    points_run = next(p for p in points if p["databaseId"] == run["pointsRun"])
    cases = "query($t: String!, $p: ID!) { casePoints(tenant: $t, pointsRun: $p) { nodes { caseId points } } }"
    by_database = await api.gql(token, cases, {"t": city.a, "p": points_run["databaseId"]})
    assert by_database == await api.gql(token, cases, {"t": city.a, "p": points_run["id"]})
    assert len(by_database["casePoints"]["nodes"]) == 4
    # Statements, comparisons and publishing take either too.
    march_id = (await api.gql(token, IDS, {"t": city.a, "i": march}))["settlementRun"]["id"]
    for i in (march, march_id):
        st = (await api.gql(token, STATEMENT, {"t": city.a, "r": i, "h": city.a1}))["statement"]
        assert st["line"]["due"] == "16000.00"
        assert (await api.gql(token, PUBLISH, {"t": city.a, "i": i}))["publishSettlementRun"]["__typename"] == (
            "RunPayload"
        )
    against = """query($t: String!, $r: ID!) { simulateAgainstRun(tenant: $t, run: $r) { __typename
      ... on RunComparisonPayload { comparison { run published { fundTotal } } } } }"""
    by_global = (await api.gql(token, against, {"t": city.a, "r": run["id"]}))["simulateAgainstRun"]
    assert by_global == (await api.gql(token, against, {"t": city.a, "r": annual}))["simulateAgainstRun"]
    assert by_global["comparison"] == {"run": annual, "published": {"fundTotal": "56850.00"}}
    # Another type's id is refused naming the argument.
    r = await api.post(token, IDS, {"t": city.a, "i": points_run["id"]})
    assert r.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert "is the id of a PointsRun, not of a SettlementRun" in r.json()["errors"][0]["message"]
    wrong = (await api.gql(token, PUBLISH, {"t": city.a, "i": points_run["id"]}))["publishSettlementRun"]
    assert wrong["__typename"] == "ValidationError" and wrong["errors"][0]["field"] == "id"


JOB_RESULTS = """query($k: JobKind!) { jobs(kind: $k, status: succeeded, first: 10) { nodes { result { __typename
  ... on PointsJobResult { pointsRunId version summary { cases types { type cases } points { ledger points } } }
  ... on SettlementJobResult { kind year month pointsRunId runs { runId ledger version
    figures { fundTotal totalPoints pointValue due balance } } } } } } }"""


async def test_points_and_settlement_jobs_answer_typed_results(city, year):
    api, _, annual = year
    token = api.token(Role.region_admin, [city.a])
    # The annual clearing's job: its run (the fixture's draft) with the figures of
    # test_run_figures_inputs_and_lines_by_name (T 60,000 ... F 56,850.00, P 600, PV 108.083333).
    settled = (await api.gql(token, JOB_RESULTS, {"k": "settlement_settle"}))["jobs"]["nodes"]
    (clearing,) = [n["result"] for n in settled if n["result"]["kind"] == "annual"]
    run = (await api.gql(token, IDS, {"t": city.a, "i": annual}))["settlementRun"]
    assert clearing == {
        "__typename": "SettlementJobResult",
        "kind": "annual",
        "year": 2025,
        "month": 12,
        "pointsRunId": run["pointsRun"],
        "runs": [
            {
                "runId": annual,
                "ledger": "employee",
                "version": 1,
                "figures": {
                    "fundTotal": "56850.00",
                    "totalPoints": "600.0000",
                    "pointValue": "108.083333",
                    "due": "56850.00",
                    "balance": "14897.88",
                },
            }
        ],
    }
    # The run's own figures are the job's.
    figures = """query($t: String!, $i: ID!) { settlementRun(tenant: $t, id: $i) {
      figures { fundTotal totalPoints pointValue due balance } } }"""
    assert (await api.gql(token, figures, {"t": city.a, "i": annual}))["settlementRun"]["figures"] == clearing["runs"][
        0
    ]["figures"]
    # Points computed on their own: the year's four cases, 600 points (A-4 a high outlier).
    points = """mutation($t: String!) { computePoints(tenant: $t, year: 2025) {
      ... on PointsJobPayload { job { databaseId } } } }"""
    job = (await api.gql(token, points, {"t": city.a}))["computePoints"]["job"]["databaseId"]
    db, _ = api.world
    assert await jobs.execute(db, city.a, uuid.UUID(job)) == "succeeded"
    (computed,) = [
        n["result"] for n in (await api.gql(token, JOB_RESULTS, {"k": "settlement_points"}))["jobs"]["nodes"]
    ]
    assert computed["__typename"] == "PointsJobResult" and computed["version"] >= 2
    assert computed["summary"] == {
        "cases": 4,
        "types": [{"type": "high_outlier", "cases": 1}, {"type": "normal", "cases": 3}],
        "points": [{"ledger": "employee", "points": "600.0000"}],
    }
    runs = "query($t: String!) { pointsRuns(tenant: $t, year: 2025) { nodes { databaseId version } } }"
    listed = (await api.gql(token, runs, {"t": city.a}))["pointsRuns"]["nodes"]
    assert {"databaseId": computed["pointsRunId"], "version": computed["version"]} in listed


PAGE = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor }"


async def test_page_info_both_ways_on_every_settlement_connection(city, year):
    api, _, annual = year
    token = api.token(Role.region_admin, [city.a])
    # A second budget version and a second policy version, so that each list has two pages of one.
    again = """mutation($t: String!) { setBudget(input: {tenant: $t, year: 2025, growthRate: "0.01",
      lastYearSpending: "60000", reason: "again"}) { __typename } }"""
    assert (await api.gql(token, again, {"t": city.a}))["setBudget"]["__typename"] == "BudgetPayload"
    policy = """mutation($t: String!) { setPolicy(input: {tenant: $t, year: 2025, ledger: employee,
      parameters: {prepayRatio: "0.9"}, reason: "again"}) { __typename } }"""
    assert (await api.gql(token, policy, {"t": city.a}))["setPolicy"]["__typename"] == "PolicyPayload"
    points = "query($t: String!) { pointsRuns(tenant: $t, year: 2025) { nodes { id throughMonth } } }"
    year_run = next(
        p for p in (await api.gql(token, points, {"t": city.a}))["pointsRuns"]["nodes"] if p["throughMonth"] == 12
    )
    pages = {
        "settlementRuns": f"settlementRuns(tenant: $t, year: 2025, first: 1, after: $a) {{ {PAGE} }}",
        "pointsRuns": f"pointsRuns(tenant: $t, year: 2025, first: 1, after: $a) {{ {PAGE} }}",
        "casePoints": f'casePoints(tenant: $t, pointsRun: "{year_run["id"]}", first: 1, after: $a) {{ {PAGE} }}',
        "budgets": f"budgets(tenant: $t, year: 2025, first: 1, after: $a) {{ {PAGE} }}",
        "SettlementRun.lines": (
            f'settlementRun(tenant: $t, id: "{annual}") {{ lines(first: 1, after: $a) {{ {PAGE} }} }}'
        ),
        "EffectivePolicy.changes": f"policy(tenant: $t, year: 2025) {{ changes(first: 1, after: $a) {{ {PAGE} }} }}",
    }
    for name, field in pages.items():

        async def page(after, field=field):
            data = await api.gql(token, "query($t: String!, $a: String) { " + field + " }", {"t": city.a, "a": after})
            value = next(iter(data.values()))
            return value if "pageInfo" in value else next(iter(value.values()))

        first = await page(None)
        cursor = first["edges"][0]["cursor"]
        assert first["pageInfo"] == {
            "hasNextPage": True,
            "hasPreviousPage": False,
            "startCursor": cursor,
            "endCursor": cursor,
        }, name
        second = await page(cursor)
        assert second["pageInfo"]["hasPreviousPage"] is True, name
        assert second["pageInfo"]["startCursor"] == second["edges"][0]["cursor"] != cursor, name


async def test_a_budget_without_last_year_s_cases_asks_for_its_spending(city, year):
    api, _, _ = year
    token = api.token(Role.region_admin, [city.a])
    q = """mutation($t: String!) { setBudget(input: {tenant: $t, year: 2025, growthRate: "0", reason: "r"}) {
      __typename ... on ValidationError { errors { record field reason } } } }"""
    # No 2024 cases in region A: a typed refusal naming lastYearSpending (it was an unexpected error).
    assert (await api.gql(token, q, {"t": city.a}))["setBudget"] == {
        "__typename": "ValidationError",
        "errors": [
            {
                "record": "budget 2025/employee",
                "field": "input.lastYearSpending",
                "reason": f"no employee cases of 2024 in {city.a}: enter last year's spending",
            }
        ],
    }
