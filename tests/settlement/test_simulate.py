"""A whole scenario simulated, with the arithmetic written out."""

from decimal import Decimal as D

import pytest

from dianshu.settlement.arithmetic.simulate import ScenarioError, simulate

SCENARIO = {
    "standard": {"avg_cost_all": "10000"},
    "groups": [{"drg": "G1", "avg_cost": "10000", "base_points": "100"}],
    "hospitals": [
        {"code": "H1", "coefficient": "1.0", "evaluation_score": "80", "prepaid": {"employee": "70000"}},
        {"code": "H2", "coefficient": "1.0", "prepaid": {"employee": "20000"}},
    ],
    "cases": [
        {
            "id": "C1",
            "hospital": "H1",
            "drg": "G1",
            "total_cost": "10000",
            "los_days": 5,
            "discharge_way": 1,
            "self_pay": "2000",
            "fund_type": "employee",
        },
        {
            "id": "C2",
            "hospital": "H1",
            "drg": "G1",
            "total_cost": "40000",
            "los_days": 12,
            "discharge_way": 1,
            "self_pay": "8000",
            "fund_type": "employee",
        },
        {
            "id": "C3",
            "hospital": "H2",
            "drg": "G1",
            "total_cost": "10000",
            "los_days": 5,
            "discharge_way": 1,
            "self_pay": "2000",
            "fund_type": "employee",
        },
        {
            "id": "C4",
            "hospital": "H2",
            "drg": "G1",
            "total_cost": "10000",
            "los_days": 5,
            "discharge_way": 1,
            "self_pay": "2000",
            "fund_type": "employee",
            "readmission_of": "C3",
        },
        {
            "id": "C5",
            "hospital": "H2",
            "drg": "0000",
            "total_cost": "5000",
            "los_days": 3,
            "discharge_way": 1,
            "self_pay": "1000",
            "fund_type": "employee",
            "violation": {"kind": "split_admission", "serious": True},
        },
    ],
    "budget": {"employee": {"amount": "100000", "fee_for_service_fund": "90000"}},
}


def test_a_scenario_by_hand():
    r = simulate(SCENARIO)
    cases = {c["id"]: c for c in r["cases"]}
    # C1 normal 100; C2 high outlier 100 + 100 × (4 − 3) = 200; C3 normal 100 halved by C4's
    # readmission = 50; C4 normal 100; C5 itemized 5000 / 10000 × 100 = 50, a confirmed serious split
    # admission: 0 points, and 1 × 50 deducted from H2.
    assert {k: (c["points"], c["type"]) for k, c in cases.items()} == {
        "C1": ("100.0000", "normal"),
        "C2": ("200.0000", "high_outlier"),
        "C3": ("50.0000", "normal"),
        "C4": ("100.0000", "normal"),
        "C5": ("0.0000", "itemized"),
    }
    assert cases["C5"]["deduction"] == "50.0000"
    led = r["ledgers"]["employee"]
    # T 100000, R 5000, B 95000, E 90000 ≤ B: F = 90000 + 0.85 × 5000 = 94250
    assert (led["T"], led["R"], led["B"], led["E"], led["F"]) == (
        "100000.00",
        "5000.00",
        "95000.00",
        "90000.00",
        "94250.00",
    )
    # H1 = 300 points, S 10000; H2 = 50 + 100 + 0 − 50 = 100 points, S 5000. P 400, S 15000.
    # PV = (94250 + 15000) / 400 = 273.125
    assert (D(led["P"]), D(led["S"]), led["PV"]) == (D(400), D(15000), "273.125000")
    h1, h2 = led["hospitals"]["H1"], led["hospitals"]["H2"]
    # D_H1 = 300 × 273.125 − 10000 = 71937.50; D_H2 = 100 × 273.125 − 5000 = 22312.50; Σ = F
    assert (h1["due"], h2["due"]) == ("71937.50", "22312.50")
    # H1: 71937.50 × (0.95 + 0.05 × 0.80) − 70000 = 71218.125 − 70000 = 1218.125 -> 1218.13
    # H2: no score: 22312.50 − 20000 = 2312.50
    assert (h1["balance"], h2["balance"]) == ("1218.13", "2312.50")


def test_changing_one_hospitals_cases_changes_no_other_hospitals_points():
    base = simulate(SCENARIO)["ledgers"]["employee"]["hospitals"]
    changed = {**SCENARIO, "cases": [dict(c, total_cost="9000") if c["id"] == "C1" else c for c in SCENARIO["cases"]]}
    other = simulate(changed)["ledgers"]["employee"]["hospitals"]
    assert other["H2"]["points"] == base["H2"]["points"]
    assert other["H1"]["points"] == base["H1"]["points"]  # 9000 is still normal: 100
    changed2 = {**SCENARIO, "cases": [dict(c, total_cost="50000") if c["id"] == "C1" else c for c in SCENARIO["cases"]]}
    other2 = simulate(changed2)["ledgers"]["employee"]["hospitals"]
    assert other2["H2"]["points"] == base["H2"]["points"] and other2["H1"]["points"] != base["H1"]["points"]


def test_the_same_inputs_give_the_same_figures():
    assert simulate(SCENARIO) == simulate(SCENARIO)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["cases"][0].update(total_cost=10000.5), "cases[0].total_cost: decimals travel as strings"),
        (lambda s: s["cases"][0].update(hospital="H9"), "cases[0].hospital: 'H9' is not in hospitals"),
        (lambda s: s["cases"][3].update(readmission_of="C99"), "cases[3].readmission_of: no case 'C99'"),
        (lambda s: s["cases"][4]["violation"].update(kind="theft"), "cases[4].violation.kind: must be one of "),
        (lambda s: s.update(policy={"prepay_ratio": "0.5"}), "policy.prepay_ratio: never below 0.85 (got 0.5)"),
        (lambda s: s["budget"].pop("employee"), "budget.employee: required: there are employee cases"),
        (
            lambda s: s["groups"].append({"drg": "BD", "avg_cost": "1", "base_points": "1", "bed_day": True}),
            "groups[1].base_points_per_day: required for a bed-day group",
        ),
    ],
)
def test_bad_scenarios_name_the_record_and_field(edit, message):
    import copy

    s = copy.deepcopy(SCENARIO)
    edit(s)
    with pytest.raises(ScenarioError) as e:
        simulate(s)
    assert message in str(e.value)


def test_simulate_command(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    dianshu = str(Path(sys.executable).parent / "dianshu")
    src, out = tmp_path / "scenario.json", tmp_path / "result.json"
    src.write_text(json.dumps(SCENARIO))
    p = subprocess.run(
        [dianshu, "simulate", "--input", str(src), "--output", str(out)], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(out.read_text())["ledgers"]["employee"]["hospitals"]["H1"]["due"] == "71937.50"
    bad = dict(SCENARIO, standard={"avg_cost_all": "0"})
    src.write_text(json.dumps(bad))
    english = {**os.environ, "DIANSHU_LANG": "en"}
    p = subprocess.run(
        [dianshu, "simulate", "--input", str(src)], capture_output=True, text=True, timeout=60, env=english
    )
    assert p.returncode == 2 and 'standard.avg_cost_all: must be > 0 (got "0")' in p.stderr
    # Without a language asked for (LANG=C.UTF-8 names none), the line is in Chinese.
    plain = {k: v for k, v in os.environ.items() if k not in ("DIANSHU_LANG", "LC_ALL", "LC_MESSAGES")}
    p = subprocess.run(
        [dianshu, "simulate", "--input", str(src)],
        capture_output=True,
        text=True,
        timeout=60,
        env=plain | {"LANG": "C.UTF-8"},
    )
    assert p.returncode == 2 and 'standard.avg_cost_all: 应 > 0（实际为 "0"）' in p.stderr, p.stderr


@pytest.mark.parametrize(("mode", "balance"), [("half_up", "1218.13"), ("half_even", "1218.12"), ("down", "1218.12")])
def test_the_rounding_parameter(mode, balance):
    # H1's balance is 71937.50 × 0.99 − 70000 = 1218.125 exactly: the policy's rounding decides the fen.
    r = simulate({**SCENARIO, "policy": {"rounding": mode}})
    assert r["ledgers"]["employee"]["hospitals"]["H1"]["balance"] == balance
    with pytest.raises(ScenarioError, match=r"policy\.rounding: half_up, half_even or down"):
        simulate({**SCENARIO, "policy": {"rounding": "up"}})
