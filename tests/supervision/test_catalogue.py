"""The rule catalogue and its parameters: every rule's parameters are policy parameters with their
descriptions, every violation kind is one settlement knows, every rule has its SQL, the CLI prints
the catalogue, and the parameters' bounds are checked."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest

from dianshu.settlement.arithmetic.policy import VIOLATION_MULTIPLES, Policy
from dianshu.strict import Invalid
from dianshu.supervision.catalogue import RULES
from dianshu.supervision.rules import RULES as SQL
from dianshu_graphql.types.policies import D

DIANSHU = str(Path(sys.executable).parent / "dianshu")


def test_every_rule_is_catalogued_with_known_parameters_and_violations():
    names = {f.name for f in fields(Policy)}
    assert [r.code for r in RULES] == list(SQL)  # one statement per rule, in catalogue order
    assert len({r.code for r in RULES}) == len(RULES)
    for r in RULES:
        assert r.level in ("case", "hospital") and r.severity in ("low", "medium", "high"), r.code
        assert set(r.parameters) <= names, r.code
        assert all(p in D for p in r.parameters), r.code
        assert r.violation is None or r.violation in VIOLATION_MULTIPLES, r.code
        # A hospital-level signal has no case of its own to mark: only the upcoding signals write a
        # violation, on the evidence cases the confirming auditor names.
        assert r.level == "case" or r.violation is None or r.code in ("upcoding_mcc_share", "upcoding_cmi"), r.code
    hospital_violations = {r.code: r.violation for r in RULES if r.level == "hospital" and r.violation}
    assert hospital_violations == {"upcoding_mcc_share": "upcoding", "upcoding_cmi": "upcoding"}
    supervision = [f.name for f in fields(Policy) if f.name.startswith("supervision_")]
    assert supervision and all(p in D for p in supervision)
    # The parameters are one block of Policy.
    names_in_order = [f.name for f in fields(Policy)]
    first = names_in_order.index(supervision[0])
    assert names_in_order[first : first + len(supervision)] == supervision  # one contiguous block
    # The outpatient variant of cost shifting is documented as left out (no outpatient claims).
    assert "outpatient claims" in next(r for r in RULES if r.code == "own_pay_rise").description


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"supervision_low_standard_exam_share": "1.5"}, "policy.supervision_low_standard_exam_share"),
        ({"supervision_split_gap_min_days": 3}, "policy.supervision_split_gap_min_days"),  # above max (2)
        ({"supervision_vent_min_hours": "120"}, "policy.supervision_vent_min_hours"),  # above max (100)
        ({"supervision_frequent_days": -1}, "policy.supervision_frequent_days"),
    ],
)
def test_parameters_are_bounded(overrides, field):
    with pytest.raises(Invalid) as e:
        Policy().with_overrides(overrides)
    assert field in str(e.value)


def test_defaults_as_the_issue_says():
    p = Policy()
    assert (p.supervision_split_days, p.supervision_split_gap_min_days, p.supervision_split_gap_max_days) == (15, 1, 2)
    assert p.supervision_frequent_days == 100 and p.supervision_low_standard_max_los == 2
    assert p.supervision_low_standard_exam_share == Decimal("0.5")
    assert (p.supervision_vent_min_hours, p.supervision_vent_max_hours) == (Decimal(96), Decimal(100))
    assert p.supervision_high_cost_ratio == Decimal("0.2") and p.supervision_own_pay_max_share == Decimal("0.08")


def test_the_cli_prints_the_catalogue():
    out = subprocess.run([DIANSHU, "supervision", "rules", "--format", "json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert [r["code"] for r in got] == [r.code for r in RULES]
    assert got[0]["name_zh"] == "分解住院" and got[0]["violation"] == "split_admission"
    table = subprocess.run([DIANSHU, "supervision", "rules"], capture_output=True, text=True)
    assert table.returncode == 0 and "low_standard_admission" in table.stdout
