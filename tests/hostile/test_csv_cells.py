"""Every CSV the platform writes for people neutralises formula cells (OWASP CSV injection) and
leaves numbers, negative amounts included, as numbers."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from dianshu.csvcells import safe_cell, writer
from dianshu.settlement.reports.overview import overview_table
from dianshu.settlement.reports.statements import tables
from dianshu.settlement.runs.figures import LINE_FIELDS
from dianshu.tabular.write import csv_bytes

CELLS = [
    ("=1+2", "'=1+2"),
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+86 571 0000", "'+86 571 0000"),
    ("-H", "'-H"),
    ("-", "'-"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("\n=1", "'\n=1"),
    ("-1e5", "'-1e5"),  # not a plain number: Excel reads 1e5 forms, so it is quoted
    ("-12.50", "-12.50"),  # a negative amount is a number, not a formula
    ("+3", "+3"),
    ("-0", "-0"),
    ("12.50", "12.50"),
    ("a=b", "a=b"),
    ("呼吸内科", "呼吸内科"),
    ("", ""),
    (None, ""),
    (Decimal("-12.50"), Decimal("-12.50")),
    (-7, -7),
    (True, "True"),
]


@pytest.mark.parametrize(("value", "cell"), CELLS, ids=[repr(c[0]) for c in CELLS])
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_the_writer_quotes_only_what_would_run():
    buf = io.StringIO()
    w = writer(buf, lineterminator="\n")
    w.writerow(["=cmd", "-12.50", Decimal("-3.00"), "ok"])
    w.writerows([["@x", 5]])
    assert buf.getvalue() == "'=cmd,-12.50,-3.00,ok\n'@x,5\n"


def test_statement_csv():
    # Each of the statement's tables is one CSV (UTF-8 with BOM, CRLF) through csvcells.
    data = {
        "tenant": "R1",
        "hospital": "H1",
        "hospital_name": "@医院",
        "alliance": "=cmd",
        "run": {
            "id": "r1",
            "kind": "annual",
            "year": 2024,
            "month": 12,
            "ledger": "employee",
            "version": 1,
            "status": "draft",
            "published_at": None,
        },
        "figures": {"PV": "0.9512", "S": "-12.50"},
        "line": {f: None for f in LINE_FIELDS} | {"balance": "-12.50", "due": "100.00"},
        "months": [{"month": "2024-01", "cases": 3, "points": "-1.50", "self_pay": "0.00", "payment": "-12.50"}],
    }
    ts = tables(data)
    summary = csv_bytes(ts["summary"]).decode("utf-8-sig").splitlines()
    assert summary[1].startswith("H1,'@医院,R1,R1,年终清算,2024,12,职工医保,") and ",'=cmd,100.00,-12.50" in summary[1]
    assert csv_bytes(ts["ledger"]).decode("utf-8-sig").splitlines()[1].endswith(",-12.50,0.9512")
    assert csv_bytes(ts["months"]).decode("utf-8-sig").splitlines()[-1] == "H1,'@医院,2024-01,3,-1.50,0.00,-12.50"


def test_overview_csv():
    row = {
        "region": "R1",
        "name": "@东区",
        "ledger": "employee",
        "status": "draft",
        "version": 1,
        "run": "=x",
        "PV": "-0.5",
        "T": Decimal("-3.00"),
    }
    lines = csv_bytes(overview_table("C1", 2024, [row])).decode("utf-8-sig").splitlines()
    assert lines[1] == "R1,'@东区,职工医保,草稿（非最终结果）,1,-3.00,,,,,,,-0.5,,'=x"
