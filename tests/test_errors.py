"""One base class for refused input: every domain refusal is a dianshu.errors.Refused carrying record,
field and reason (and every (field, reason) in `issues`), so the API can map them all at one place;
the messages are as they were."""

from __future__ import annotations

import pytest

from dianshu.cases.ingest import IngestRefused
from dianshu.cases.service import RecallRefused
from dianshu.errors import Refused
from dianshu.reviews.workflow import ReviewRefused
from dianshu.settlement.arithmetic.year import SettlementInputError
from dianshu.settlement.runs.budgets import BudgetRefused
from dianshu.settlement.runs.compare import CompareRefused
from dianshu.settlement.runs.policies import PolicyRefused
from dianshu.settlement.runs.publish import RunRefused
from dianshu.settlement.runs.regional import RegionalRefused

CASES = [
    (IngestRefused("mode", "must be partial"), ("upload", "mode", "must be partial"), "mode: must be partial"),
    (RecallRefused("L1", "no case L1", "not_found"), ("case L1", "listId", "no case L1"), "no case L1"),
    (
        RecallRefused("L1", "reason: required", field="reason"),
        ("case L1", "reason", "reason: required"),
        "reason: required",
    ),
    (RunRefused("run r1", "run", "not the newest"), ("run r1", "run", "not the newest"), "run: not the newest"),
    (BudgetRefused("budget 2025/all", "year", "bad"), ("budget 2025/all", "year", "bad"), "year: bad"),
    (CompareRefused("run r1", "growth_rate", "bad"), ("run r1", "growth_rate", "bad"), "growth_rate: bad"),
    (RegionalRefused("alliance M", "lead", "bad"), ("alliance M", "lead", "bad"), "alliance M.lead: bad"),
    (ReviewRefused("review 7", "state", "bad"), ("review 7", "state", "bad"), "review 7.state: bad"),
    (SettlementInputError("case 7", "readmission_of", "no case"), ("case 7", "readmission_of", "no case"), None),
]


@pytest.mark.parametrize(("error", "named", "message"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_every_refusal_is_one_refused_input(error, named, message):
    assert isinstance(error, Refused) and isinstance(error, ValueError)
    assert (error.record, error.field, error.reason) == named
    assert error.issues[0] == named[1:]
    if message is not None:
        assert str(error) == message


def test_several_issues_of_one_record():
    e = PolicyRefused("policy 2025/all", "parameters.k", "too big", more=[("parameters.low_ratio", "too small")])
    assert e.issues == [("parameters.k", "too big"), ("parameters.low_ratio", "too small")]
    assert str(e) == "parameters.k: too big; parameters.low_ratio: too small"
    assert (e.record, e.field, e.reason) == ("policy 2025/all", "parameters.k", "too big")


def test_a_settlement_input_error_keeps_its_path():
    assert str(SettlementInputError("case 7", "readmission_of", "no case 'x'")) == "case 7.readmission_of: no case 'x'"
    whole = SettlementInputError("ledger employee", "cases", "no cases: nothing to clear", whole_record=True)
    assert (whole.where, str(whole)) == ("ledger employee", "ledger employee: no cases: nothing to clear")
