"""The built-in catalogue file and its strict reader."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from dianshu.evaluation.catalogue import DATA, CatalogueRefused, builtin_catalogue, parse_catalogue


def test_the_builtin_catalogue_has_50_indicators_37_active_in_6_dimensions():
    c = builtin_catalogue()
    assert len(c.indicators) == 50
    assert Counter(i.status for i in c.indicators) == {"active": 37, "monitor": 13}
    # SPEC section 8's dimensions and default weights.
    assert {d.code: d.weight for d in c.dimensions} == {
        "comprehensive": 20,
        "drg": 25,
        "audit": 20,
        "outcome": 15,
        "satisfaction": 10,
        "process": 10,
    }
    assert {d.name_zh for d in c.dimensions} == {
        "综合指标评价",
        "DRGs评价",
        "审核结果评价",
        "医疗服务效果评价",
        "患者满意度评价",
        "医疗过程评价",
    }
    by = c.by_code()
    assert by["A01"].computation == "cmi" and by["A01"].direction == "higher"
    assert by["D01"].computation == "low_risk_mortality" and by["D01"].direction == "lower"
    assert by["E01"].entered and not by["A01"].entered


def _files():
    return (DATA / "catalogue.csv").read_text(encoding="utf-8"), (DATA / "dimensions.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "record", "field"),
    [
        (lambda i, d: (i.replace(",cmi,higher,", ",cmi,upward,"), d), "catalogue.csv A01", "direction"),
        (lambda i, d: (i.replace("A02,comprehensive", "A01,comprehensive"), d), "catalogue.csv A01", "code"),
        (
            lambda i, d: (i.replace(",cmi,higher,grouping,index,25,", ",cmi,higher,grouping,index,26,"), d),
            "catalogue.csv dimension comprehensive",
            "weight",
        ),
        (
            lambda i, d: (
                i.replace("total_weight,higher,grouping,index,0", "total_weight,higher,grouping,index,5"),
                d,
            ),
            "catalogue.csv A04",
            "weight",
        ),
        (
            lambda i, d: (
                i,
                d.replace("Process of care,10", "Process of care,11"),
            ),
            "dimensions.csv",
            "weight",
        ),
        (lambda i, d: (i.replace("code,dimension", "code,extra,dimension", 1), d), "catalogue.csv", "header"),
        (lambda i, d: (i.replace(",cmi,higher,grouping,", ",cmi,higher,gossip,"), d), "catalogue.csv A01", "source"),
    ],
)
def test_a_bad_catalogue_is_refused_naming_the_row_and_field(change, record, field):
    i, d = change(*_files())
    with pytest.raises(CatalogueRefused) as e:
        parse_catalogue(i, d)
    assert (e.value.record, e.value.field) == (record, field)


def test_active_weights_sum_to_100_in_every_dimension():
    c = builtin_catalogue()
    for d in c.dimensions:
        assert sum(i.weight for i in c.in_dimension(d.code) if i.active) == Decimal(100)
