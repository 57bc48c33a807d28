"""The evaluation's policy parameters: peer scope and the points coefficient's bands, checked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dianshu.settlement.arithmetic.policy import Policy
from dianshu.strict import Invalid


def test_defaults_are_region_peers_and_no_coefficient():
    p = Policy()
    assert (p.evaluation_peer_scope, p.evaluation_coefficient_floors, p.evaluation_coefficients) == ("region", (), ())
    assert p.as_dict()["evaluation_coefficient_floors"] == []


def test_bands_are_read_strictly_as_decimals():
    p = Policy().with_overrides(
        {
            "evaluation_peer_scope": "city",
            "evaluation_coefficient_floors": ["0", "60", "90"],
            "evaluation_coefficients": ["0.95", "1", "1.05"],
        }
    )
    assert p.evaluation_peer_scope == "city"
    assert p.evaluation_coefficient_floors == (Decimal(0), Decimal(60), Decimal(90))
    assert p.evaluation_coefficients == (Decimal("0.95"), Decimal(1), Decimal("1.05"))


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"evaluation_peer_scope": "province"}, "evaluation_peer_scope", "region or city"),
        (
            {"evaluation_coefficient_floors": ["0", "60"], "evaluation_coefficients": ["1"]},
            "evaluation_coefficients",
            "one per floor",
        ),
        (
            {"evaluation_coefficient_floors": ["10", "60"], "evaluation_coefficients": ["1", "1"]},
            "evaluation_coefficient_floors",
            "first floor is 0",
        ),
        (
            {"evaluation_coefficient_floors": ["0", "60", "60"], "evaluation_coefficients": ["1", "1", "1"]},
            "evaluation_coefficient_floors",
            "ascending",
        ),
        (
            {"evaluation_coefficient_floors": ["0", "101"], "evaluation_coefficients": ["1", "1"]},
            "evaluation_coefficient_floors",
            "0 to 100",
        ),
        (
            {"evaluation_coefficient_floors": ["0", "60"], "evaluation_coefficients": ["0.4", "1"]},
            "evaluation_coefficients",
            "between 0.5 and 1.5",
        ),
        (
            {"evaluation_coefficient_floors": ["0"], "evaluation_coefficients": ["1.51"]},
            "evaluation_coefficients",
            "between 0.5 and 1.5",
        ),
        ({"evaluation_coefficient_floors": [0.5]}, "evaluation_coefficient_floors", ""),  # a float: refused
    ],
)
def test_bad_bands_are_refused_by_field(overrides, field, reason):
    with pytest.raises(Invalid) as e:
        Policy().with_overrides(overrides)
    assert any(field in i.path and reason in i.reason for i in e.value.issues), e.value.issues
