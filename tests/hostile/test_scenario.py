"""Hostile scenarios: each is refused with its exact JSON path and reason, by the pure parser and by
`dianshu simulate` (exit 2, one line per issue on stderr, no traceback); by GraphQL `simulate`
(the scenario a typed input there) as GraphQL's own refusal of a wrong type or field, or a typed
ValidationError at the input's GraphQL path, never masked."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from dianshu.reports.reasons import field_name, localize
from dianshu.scope import Role
from dianshu.settlement.arithmetic.simulate import ScenarioError, parse_scenario, simulate
from dianshu.tabular.write import Lang
from dianshu_cli.main import app as cli
from dianshu_graphql.types.settlement import graphql_path
from dianshu_graphql.types.simulation import SCENARIO_RENAMES
from tests.api import Api
from tests.conftest import provision_city
from tests.settlement.scenario_input import graphql_scenario
from tests.settlement.test_simulate import SCENARIO

CASE_KEYS = (
    "id, hospital, drg, total_cost, los_days, discharge_way, self_pay, fund_type, fund_pay, month, "
    "readmission_of, violation, special_review_points, special_review, new_technologies, tcm_treatment"
)
TOP_KEYS = "policy, standard, groups, hospitals, alliances, cases, budget"


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict], None]:
    def edit(s: dict) -> None:
        target = s
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value

    return edit


def _move(key: str, to: tuple[str, ...]) -> Callable[[dict], None]:
    def edit(s: dict) -> None:
        value = s.pop(key)
        target = s
        for p in to[:-1]:
            target = target[p]
        target[to[-1]] = value

    return edit


def _append(key: str, item: Any) -> Callable[[dict], None]:
    return lambda s: s[key].append(item)


# (id, edit of SCENARIO or a whole replacement, expected (path, reason) among the issues)
HOSTILE: list[tuple[str, Any, tuple[str, str]]] = [
    (
        "groups under standard",
        _move("groups", ("standard", "groups")),
        ("standard.groups", "unknown key here: groups belongs at the top level"),
    ),
    ("case for cases", _move("cases", ("case",)), ("case", "unknown key (did you mean cases?)")),
    ("case for cases: cases missing", _move("cases", ("case",)), ("cases", "required")),
    ("unknown top-level key", _set(("colour",), "blue"), ("colour", f"unknown key (allowed: {TOP_KEYS})")),
    (
        "unknown case key",
        _set(("cases", 2, "colour"), "blue"),
        ("cases[2].colour", f"unknown key (allowed: {CASE_KEYS})"),
    ),
    (
        "unknown nested key (prepaid)",
        _set(("hospitals", 0, "prepaid", "employe"), "1"),
        ("hospitals[0].prepaid.employe", "unknown key (did you mean employee?)"),
    ),
    (
        "unknown policy parameter",
        _set(("policy",), {"reserve_rate": "0.1"}),
        ("policy.reserve_rate", "unknown key (did you mean reserve_ratio?)"),
    ),
    (
        "budget reserve_ratio 2",
        _set(("budget", "employee", "reserve_ratio"), "2"),
        ("budget.employee.reserve_ratio", 'must be < 1 (got "2")'),
    ),
    (
        "policy reserve_ratio 1",
        _set(("policy",), {"reserve_ratio": "1"}),
        ("policy.reserve_ratio", "must be at least 0 and below 1 (got 1)"),
    ),
    (
        "policy prepay below 0.85",
        _set(("policy",), {"prepay_ratio": "0.8", "min_prepay_ratio": "0.8"}),
        ("policy.min_prepay_ratio", "SPEC's floor is 0.85 (got 0.8)"),
    ),
    (
        "policy boolean as string",
        _set(("policy",), {"merge_ledgers": "false"}),
        ("policy.merge_ledgers", 'must be a JSON boolean, true or false (got "false")'),
    ),
    (
        "duplicate DRG",
        _append("groups", {"drg": "G1", "avg_cost": "10000", "base_points": "200"}),
        ("groups[1].drg", "duplicate: 'G1' is also groups[0]"),
    ),
    (
        "duplicate hospital",
        _append("hospitals", {"code": "H1", "coefficient": "2"}),
        ("hospitals[2].code", "duplicate: 'H1' is also hospitals[0]"),
    ),
    ("duplicate case id", _set(("cases", 1, "id"), "C1"), ("cases[1].id", "duplicate: 'C1' is also cases[0]")),
    (
        "stable as a string",
        _set(("groups", 0, "stable"), "false"),
        ("groups[0].stable", 'must be a JSON boolean, true or false (got "false")'),
    ),
    (
        "serious as a string",
        _set(("cases", 4, "violation", "serious"), "false"),
        ("cases[4].violation.serious", 'must be a JSON boolean, true or false (got "false")'),
    ),
    ("negative LOS", _set(("cases", 1, "los_days"), -1), ("cases[1].los_days", "must be ≥ 0 (got -1)")),
    ("LOS as a string", _set(("cases", 1, "los_days"), "5"), ("cases[1].los_days", 'must be a whole number (got "5")')),
    ("LOS absurd", _set(("cases", 1, "los_days"), 99999), ("cases[1].los_days", "must be ≤ 3660 (got 99999)")),
    ("month 13", _set(("cases", 0, "month"), 13), ("cases[0].month", "must be ≤ 12 (got 13)")),
    (
        "discharge way 99",
        _set(("cases", 0, "discharge_way"), 99),
        ("cases[0].discharge_way", "must be one of 1, 2, 3, 4, 5 or 9 (got 99)"),
    ),
    (
        "discharge way true",
        _set(("cases", 0, "discharge_way"), True),
        ("cases[0].discharge_way", "must be a whole number (got true)"),
    ),
    (
        "self-readmission",
        _set(("cases", 3, "readmission_of"), "C4"),
        ("cases[3].readmission_of", "a case cannot readmit itself"),
    ),
    (
        "readmission of no case",
        _set(("cases", 3, "readmission_of"), "C99"),
        ("cases[3].readmission_of", "no case 'C99'"),
    ),
    ("unknown hospital", _set(("cases", 0, "hospital"), "H9"), ("cases[0].hospital", "'H9' is not in hospitals")),
    (
        "DRG not in groups",
        _set(("cases", 0, "drg"), "G9"),
        ("cases[0].drg", "'G9' is not in groups (0000 for an ungroupable case)"),
    ),
    (
        "alliance member not a hospital",
        _set(("alliances",), [{"id": "A1", "lead": "H1", "shares": {"H1": "0.5", "H9": "0.5"}}]),
        ("alliances[0].shares.H9", "not a hospital of the region"),
    ),
    ("top level an array", ["not", "an", "object"], ("scenario", "must be a JSON object (got an array)")),
    ("top level a string", "scenario", ("scenario", 'must be a JSON object (got "scenario")')),
    ("a case a string", _set(("cases", 1), "C2"), ("cases[1]", 'must be a JSON object (got "C2")')),
    ("a group a number", _set(("groups", 0), 5), ("groups[0]", "must be a JSON object (got 5)")),
    ("standard a string", _set(("standard",), "10000"), ("standard", 'must be a JSON object (got "10000")')),
    ("cases an object", _set(("cases",), {"C1": {}}), ("cases", "must be a JSON array (got an object)")),
    ("policy a string", _set(("policy",), "strict"), ("policy", 'must be a JSON object (got "strict")')),
    (
        "float money",
        _set(("cases", 0, "total_cost"), 10000.5),
        ("cases[0].total_cost", "decimals travel as strings, not float (10000.5)"),
    ),
    (
        "float money, whole",
        _set(("budget", "employee", "amount"), 100000.0),
        ("budget.employee.amount", "decimals travel as strings, not float (100000.0)"),
    ),
    (
        "decimal in exponent notation",
        _set(("cases", 0, "self_pay"), "2e3"),
        ("cases[0].self_pay", '"2e3" is not a plain decimal (digits, at most 2 after the point: "1234.56")'),
    ),
    (
        "money with 3 places",
        _set(("cases", 0, "self_pay"), "0.125"),
        ("cases[0].self_pay", 'money has at most 2 decimal places (got "0.125")'),
    ),
    (
        "a coefficient with 7 places",
        _set(("hospitals", 0, "coefficient"), "1.1234567"),
        ("hospitals[0].coefficient", 'a decimal has at most 6 decimal places (got "1.1234567")'),
    ),
    (
        "a 31-digit integer",
        _set(("cases", 0, "total_cost"), 10**30),
        ("cases[0].total_cost", "must be below 1,000,000,000,000 in size (got 1000000000000000000000000000000)"),
    ),
    (
        "a 30-digit budget",
        _set(("budget", "employee", "amount"), "9" * 30),
        ("budget.employee.amount", f'must be below 1,000,000,000,000 in size (got "{"9" * 30}")'),
    ),
    (
        "money at 10^12",
        _set(("cases", 0, "total_cost"), "1000000000000.00"),
        ("cases[0].total_cost", 'must be below 1,000,000,000,000 in size (got "1000000000000.00")'),
    ),
    (
        "base points above 10^6",
        _set(("groups", 0, "base_points"), "1000001"),
        ("groups[0].base_points", 'must be ≤ 1000000 (got "1000001")'),
    ),
    (
        "coefficient above 100",
        _set(("hospitals", 0, "coefficient"), "101"),
        ("hospitals[0].coefficient", 'must be ≤ 100 (got "101")'),
    ),
    (
        "policy itemized_factor of 30 digits",
        _set(("policy",), {"itemized_factor": "9" * 30}),
        ("policy.itemized_factor", f'must be below 1,000,000,000,000 in size (got "{"9" * 30}")'),
    ),
    (
        "policy itemized_factor above 100",
        _set(("policy",), {"itemized_factor": "101"}),
        ("policy.itemized_factor", "must be between 0 and 100 (got 101)"),
    ),
    (
        "policy readmission_days 10^40",
        _set(("policy",), {"readmission_days": 10**40}),
        ("policy.readmission_days", f"must be between 0 and 366 (got {10**40})"),
    ),
    (
        "policy review_min_experts 51",
        _set(("policy",), {"review_min_experts": 51}),
        ("policy.review_min_experts", "must be between 1 and 50 (got 51)"),
    ),
    (
        "policy high_k_1 above 100",
        _set(("policy",), {"high_k_1": "100.5"}),
        ("policy.high_k_1", "must be between 0 and 100 (got 100.5)"),
    ),
    (
        "policy band points above 10^6",
        _set(("policy",), {"high_band_2_max_points": "1000001"}),
        ("policy.high_band_2_max_points", "must be between 0 and 1000000 (got 1000001)"),
    ),
    (
        "policy bed_day_min_los above 3660",
        _set(("policy",), {"bed_day_min_los": 3661}),
        ("policy.bed_day_min_los", "must be between 0 and 3660 (got 3661)"),
    ),
    (
        "alliance share with 29 places",
        _set(
            ("alliances",),
            [{"id": "A1", "lead": "H1", "shares": {"H1": "1", "H2": "0.00000000000000000000000000001"}}],
        ),
        (
            "alliances[0].shares.H2",
            'a decimal has at most 6 decimal places (got "0.00000000000000000000000000001")',
        ),
    ),
]
IDS = [h[0] for h in HOSTILE]


def hostile(edit: Any) -> Any:
    if not callable(edit):
        return edit
    s = copy.deepcopy(SCENARIO)
    edit(s)
    return s


@pytest.mark.parametrize(("edit", "issue"), [h[1:] for h in HOSTILE], ids=IDS)
def test_the_parser_names_path_and_reason(edit, issue):
    with pytest.raises(ScenarioError) as e:
        parse_scenario(hostile(edit))
    assert issue in [(i.path, i.reason) for i in e.value.issues]


SIM = """query($s: ScenarioInput!) { simulate(scenario: $s) { __typename
  ... on SimulationPayload { result { cases { id } } }
  ... on ValidationError { message errors { record field reason } } } }"""

# Through GraphQL the scenario is a typed input (ScenarioInput): what its types say (an object, a
# boolean, a whole number, the fields there are) GraphQL refuses itself, before the reader.
GRAPHQL_REFUSES = {
    "groups under standard",
    "case for cases",
    "case for cases: cases missing",
    "unknown top-level key",
    "unknown case key",
    "unknown nested key (prepaid)",
    "unknown policy parameter",
    "policy boolean as string",
    "stable as a string",
    "serious as a string",
    "LOS as a string",
    "discharge way true",
    "top level an array",
    "top level a string",
    "a case a string",
    "a group a number",
    "standard a string",
    "cases an object",
    "policy a string",
    "policy readmission_days 10^40",  # beyond GraphQL's 32-bit Int
}
# Floats are refused by the Decimal scalar itself (decimals travel as strings), before the reader.
FLOAT_REFUSED = {"float money", "float money, whole"}
# The path where the typed input says it otherwise (an alliance's shares are a list there), and the
# reason where the value reached the reader as the Decimal scalar wrote it (2e3 as 2E+3).
GRAPHQL_PATH = {
    "alliance member not a hospital": "scenario.alliances[0].shares[1].hospital",
    "alliance share with 29 places": "scenario.alliances[0].shares[1].share",
}
GRAPHQL_REASON = {
    "decimal in exponent notation": '"2E+3" is not a plain decimal (digits, at most 2 after the point: "1234.56")'
}


@pytest.fixture(scope="module")
async def api(settings, db, owner_db):
    a = Api(settings, db)
    a.region = (await provision_city(owner_db, db)).a
    yield a
    await a.client.aclose()


@pytest.mark.parametrize(("name", "edit", "issue"), HOSTILE, ids=IDS)
async def test_graphql_simulate_returns_a_typed_error(api, name, edit, issue):
    token = api.token(Role.region_admin, [api.region])
    r = await api.post(token, SIM, {"s": graphql_scenario(hostile(edit))})
    assert r.status_code == 200, r.text
    body = r.json()
    if name in GRAPHQL_REFUSES or name in FLOAT_REFUSED:
        assert body.get("data") is None and body["errors"], body
        assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}, body
        if name in FLOAT_REFUSED:
            assert "decimals travel as strings, not a float" in body["errors"][0]["message"], body
        return
    out = body["data"]["simulate"]
    assert out["__typename"] == "ValidationError", out
    field = GRAPHQL_PATH.get(name) or graphql_path(issue[0], "scenario", SCENARIO_RENAMES)
    errors = {e["field"]: e for e in out["errors"]}
    assert field in errors, (field, out)
    # The scenario's reader says why; where the argument guard refused first (a decimal's size or
    # places, a month), it does (record simulate).
    if errors[field]["record"] == "scenario":
        assert errors[field]["reason"] == GRAPHQL_REASON.get(name, issue[1])
    else:
        assert errors[field]["record"] == "simulate"


@pytest.mark.parametrize(("edit", "issue"), [h[1:] for h in HOSTILE], ids=IDS)
def test_the_cli_exits_2_with_one_line_per_issue(tmp_path, edit, issue):
    src = tmp_path / "scenario.json"
    src.write_text(json.dumps(hostile(edit)), encoding="utf-8")
    r = CliRunner().invoke(cli, ["--lang", "en", "simulate", "--input", str(src)])
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert f"{src}: {issue[0]}: {issue[1]}" in r.stderr.splitlines()
    assert "Traceback" not in r.stderr + r.stdout and r.stdout == ""


# The words of the scenario reader's English reasons: in Chinese none is left (the field paths,
# the keys a reason names and the values it quotes stay as written, and are cut out first).
_ENGLISH = re.compile(
    r"\b(?:must|unknown|key|got|not|of|the|be|below|least|between|and|or|an|array|object|"
    r"boolean|whole|number|hospital|region|belongs|level|allowed|did|you|mean|size|case|required)\b"
)


@pytest.mark.parametrize(("edit", "issue"), [h[1:] for h in HOSTILE], ids=IDS)
def test_the_cli_says_each_issue_wholly_in_chinese(tmp_path, edit, issue):
    src = tmp_path / "scenario.json"
    src.write_text(json.dumps(hostile(edit)), encoding="utf-8")
    r = CliRunner().invoke(cli, ["--lang", "zh", "simulate", "--input", str(src)])
    assert r.exit_code == 2 and r.stdout == "", (r.stdout, r.stderr)
    path, reason = issue
    said = localize(f"{path}: {reason}", Lang.zh)
    assert f"{src}: {said}" in r.stderr.splitlines(), (said, r.stderr)
    words = said.removeprefix(field_name(path, Lang.zh) + ": ")
    assert words != reason and re.search(r"[\u4e00-\u9fff]", words), said
    for kept in re.findall(r"\((?:allowed|did you mean)[^)]*\)|'[^']*'|\"[^\"]*\"", reason):
        words = words.replace(kept, "")
    words = re.sub(r"[（(]允许：[^）)]*[）)]|是否要写 [\w.]+|此处不应有键 \w+", "", words)
    assert not _ENGLISH.search(words), said


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read: No such file or directory"),
        ("{", "not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("", "not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"\xff\xfe{", "not UTF-8 (byte 0)"),
        ('{"cases": NaN}', "NaN is not JSON (numbers must be finite)"),
    ],
    ids=["missing file", "truncated JSON", "empty file", "not UTF-8", "NaN"],
)
def test_the_cli_refuses_unreadable_input(tmp_path, content, message):
    src = tmp_path / "scenario.json"
    if isinstance(content, bytes):
        src.write_bytes(content)
    elif content is not None:
        src.write_text(content, encoding="utf-8")
    r = CliRunner().invoke(cli, ["--lang", "en", "simulate", "--input", str(src)])
    assert r.exit_code == 2 and r.stderr.startswith(f"{src}: {message}"), r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_every_issue_is_reported_not_only_the_first():
    s = hostile(_set(("cases", 0, "month"), 13))
    s["cases"][1]["los_days"] = -1
    s["groups"][0]["stable"] = "no"
    with pytest.raises(ScenarioError) as e:
        simulate(s)
    assert [i.path for i in e.value.issues] == ["groups[0].stable", "cases[0].month", "cases[1].los_days"]


def test_a_valid_scenario_is_accepted_unchanged():
    # The accepted scenario's figures are the hand-computed ones of tests/settlement/test_simulate.py.
    r = simulate(copy.deepcopy(SCENARIO))
    assert r["ledgers"]["employee"]["hospitals"]["H1"]["due"] == "71937.50"
    assert r["ledgers"]["employee"]["PV"] == "273.125000"


TOO_LARGE = "scenario", "its amounts are too large to compute to the fen (a figure left 28 significant digits)"


@pytest.fixture
def overflowing_engine(monkeypatch):
    # Defence in depth: should an accepted scenario still leave the engine's precision, the
    # ArithmeticError is a typed refusal, not a crash.
    import decimal

    import dianshu.settlement.arithmetic.simulate as sim

    def overflow(inp: Any) -> Any:
        raise decimal.InvalidOperation([decimal.InvalidOperation])

    monkeypatch.setattr(sim, "settle_year", overflow)


def test_an_arithmetic_error_of_the_engine_is_a_refusal(overflowing_engine):
    with pytest.raises(ScenarioError) as e:
        simulate(copy.deepcopy(SCENARIO))
    assert [(i.path, i.reason) for i in e.value.issues] == [TOO_LARGE]


async def test_graphql_simulate_refuses_an_arithmetic_error(api, overflowing_engine):
    token = api.token(Role.region_admin, [api.region])
    out = (await api.gql(token, SIM, {"s": graphql_scenario(SCENARIO)}))["simulate"]
    assert out["__typename"] == "ValidationError", out
    assert out["errors"] == [{"record": "scenario", "field": TOO_LARGE[0], "reason": TOO_LARGE[1]}]


def test_the_cli_exits_2_on_an_arithmetic_error(tmp_path, overflowing_engine):
    src = tmp_path / "huge.json"
    src.write_text(json.dumps(SCENARIO), encoding="utf-8")
    r = CliRunner().invoke(cli, ["simulate", "--input", str(src)])
    assert r.exit_code == 2 and r.stderr.splitlines() == [f"{src}: {TOO_LARGE[0]}: {TOO_LARGE[1]}"], r.stderr
    assert "Traceback" not in r.stderr + r.stdout
