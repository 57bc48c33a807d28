"""The shared input bounds (dianshu.bounds) and the argument walk that applies them (no database)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from dianshu import bounds
from dianshu_graphql.guards import refusals


@pytest.mark.parametrize(
    ("check", "value", "reason"),
    [
        (bounds.year_reason, 2000, None),
        (bounds.year_reason, 2100, None),
        (bounds.year_reason, 1999, "must be a year from 2000 to 2100 (got 1999)"),
        (bounds.year_reason, 2101, "must be a year from 2000 to 2100 (got 2101)"),
        (bounds.year_reason, True, "must be a whole number"),
        (bounds.month_reason, 12, None),
        (bounds.month_reason, 0, "must be a month from 1 to 12 (got 0)"),
        (bounds.year_month_reason, "2025-03", None),
        (bounds.year_month_reason, "2025-3", "must be a month as YYYY-MM (got '2025-3')"),
        (bounds.year_month_reason, "1999-03", "must be a year from 2000 to 2100 (got 1999)"),
        (bounds.level_reason, 3, None),
        (bounds.level_reason, 4, "must be a hospital level, one of 1, 2, 3 (got 4)"),
        (bounds.decimal_reason, D("999999999999.999999"), None),
        (bounds.decimal_reason, D("1E+12"), "must be below 1,000,000,000,000 in size"),
        (bounds.decimal_reason, D("0.1234567"), "must have at most 6 decimal places (got 0.1234567)"),
        (bounds.decimal_reason, D("NaN"), "must be a finite decimal (got NaN)"),
        (bounds.money_reason, D("10.50"), None),
        (bounds.money_reason, D("10.505"), "must have at most 2 decimal places (got 10.505)"),
        (bounds.money_reason, D("1E+2"), None),  # 100: a positive exponent has no places
    ],
)
def test_bounds(check, value, reason):
    assert check(value) == reason


def test_text_refuses_controls_and_length_but_keeps_newlines():
    assert bounds.text_reason("line 1\nline 2\ttab\r", 20) is None
    assert bounds.text_reason("a\x00b", 20) == "must not contain control characters (U+0000 at position 1)"
    assert bounds.text_reason("\x7f", 20) == "must not contain control characters (U+007F at position 0)"
    assert bounds.text_reason("\ud800", 20) == "must not contain control characters (U+D800 at position 0)"
    assert bounds.text_reason("x" * 21, 20) == "must be at most 20 characters (got 21)"


def test_the_walk_names_each_refused_value_by_its_path():
    args = {
        "input": {
            "year": 1900,
            "reason": "r" * 2001,
            "hospitals": [{"level": 2, "code": "H1"}, {"level": 0, "code": "H\x00"}],
            "amount": D("1.001"),
            "growthRate": D("0.123456"),
        },
        "scenario": {"year": 1, "k\x00": "v"},  # JSON: data, not arguments (no name rules), keys checked
    }
    assert refusals(args, frozenset({"scenario"})) == [
        ("input.year", "must be a year from 2000 to 2100 (got 1900)"),
        ("input.reason", "must be at most 2000 characters (got 2001)"),
        ("input.hospitals[1].level", "must be a hospital level, one of 1, 2, 3 (got 0)"),
        ("input.hospitals[1].code", "must not contain control characters (U+0000 at position 1)"),
        ("input.amount", "must have at most 2 decimal places (got 1.001)"),
        ("scenario.<key>", "must not contain control characters (U+0000 at position 1)"),
    ]


def test_request_limit_defaults():
    from dianshu.config import Settings

    s = Settings()
    assert (s.max_body_bytes, s.max_upload_bytes, s.max_variable_depth, s.max_variable_values) == (
        1 << 20,
        1 << 30,
        16,
        100_000,
    )
