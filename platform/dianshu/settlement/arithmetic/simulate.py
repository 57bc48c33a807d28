"""Simulation: a scenario (plain JSON, decimals as strings, read strictly by scenario.py) in, one
year's case points and annual clearing out, with no database. It parses into the same typed inputs
the database runs build and calls the same engine (year.settle_year), so a simulated year and a
real run agree to the fen."""

from __future__ import annotations

from typing import Any

from dianshu.settlement.arithmetic.scenario import read_scenario
from dianshu.settlement.arithmetic.year import SettlementInputError, YearInputs, YearResult, settle_year
from dianshu.strict import Invalid


class ScenarioError(Invalid):
    """A scenario that cannot be computed: every issue names its JSON path and why."""

    @property
    def where(self) -> str:
        return self.issues[0].path

    @property
    def reason(self) -> str:
        return self.issues[0].reason


def parse_scenario(scenario: Any) -> YearInputs:
    try:
        return read_scenario(scenario)
    except Invalid as e:
        raise ScenarioError(e.issues) from None


def result_json(inp: YearInputs, result: YearResult) -> dict[str, Any]:
    return {
        "policy": inp.policy.as_dict(),
        "cases": [
            {
                "id": c.id,
                "points": str(c.points),
                "type": c.type,
                "reason": c.reason,
                **({"addon": str(c.addon)} if c.addon else {}),
                **({"deduction": str(c.deduction)} if c.deduction else {}),
            }
            for c in result.cases.values()
        ],
        "ledgers": {
            name: {
                **led.figures(),
                "hospitals": {
                    h: {
                        "points": str(line.points),
                        "deductions": str(line.deductions),
                        "self_pay": str(line.self_pay),
                        "due": str(line.due),
                        "prepaid": str(line.prepaid),
                        "balance": str(line.balance),
                        **({"alliance": line.alliance} if line.alliance else {}),
                    }
                    for h, line in led.hospitals.items()
                },
                **(
                    {
                        "alliances": {
                            a: {"points": str(x.points), "due": str(x.due), "surplus": str(x.surplus)}
                            for a, x in led.alliances.items()
                        }
                    }
                    if led.alliances
                    else {}
                ),
            }
            for name, led in result.ledgers.items()
        },
    }


def simulate(scenario: Any) -> dict[str, Any]:
    inp = parse_scenario(scenario)
    try:
        return result_json(inp, settle_year(inp))
    except SettlementInputError as e:  # the scenario's checks should leave none: a guard
        raise ScenarioError.one(e.where, e.reason) from e
    except ArithmeticError:  # the bounds should leave none (decimal.InvalidOperation, Overflow): a guard
        raise ScenarioError.one(
            "scenario", "its amounts are too large to compute to the fen (a figure left 28 significant digits)"
        ) from None
