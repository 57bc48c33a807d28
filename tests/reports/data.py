"""A hand-made statement (the shape of runs.figures.statement_data) for the report tests: a monthly
pre-settlement of April 2025, figures chosen so that every formatting rule shows."""

from __future__ import annotations

from dianshu.settlement.runs.figures import LINE_FIELDS

RUN_ID = "0b6f4a52-8a37-4c1e-9d0e-3f1f5c2a7b19"


def statement() -> dict:
    line = dict.fromkeys(LINE_FIELDS) | {
        "cases": "12",
        "points": "1234.5678",
        "deductions": "0.0000",
        "self_pay": "23456.78",
        "due": "1234567.89",
        "payable": "1172839.50",
        "holdback": "61728.39",
        "paid_before": "800000.00",
        "payment": "372839.50",
    }
    return {
        "tenant": "330702",
        "region_name": "婺城区",
        "city_name": "金华市",
        "hospital": "H33070200001",
        "hospital_name": "金华市中心医院",
        "run": {
            "id": RUN_ID,
            "kind": "monthly",
            "year": 2025,
            "month": 4,
            "ledger": "employee",
            "version": 2,
            "status": "published",
            # 02:03:04.123456 UTC is 10:03:04 in Asia/Shanghai (UTC+8), shown without the microseconds.
            "published_at": "2025-05-06T02:03:04.123456+00:00",
        },
        "figures": {
            "PV_provisional": "108.083333",
            "PV_exact": "108.08333333333333333333333333333333333333333333333",
            "P": "98765.4321",
            "S": "1234567.80",
            "due": "9876543.21",
            "payable": "9382716.05",
            "holdback": "493827.16",
            "payment": "2345678.90",
            "hospitals": 3,
        },
        "alliance": None,
        "line": line,
        "months": [
            {
                "month": "2025-01",
                "cases": "3",
                "points": "300.0000",
                "self_pay": "5000.00",
                "payment": "0.00",
                "pv": "207.100000",
            },
            {
                "month": "2025-02",
                "cases": "2",
                "points": "234.5678",
                "self_pay": "4000.00",
                "payment": "0.00",
                "pv": "215.300000",
            },
            {
                "month": "2025-03",
                "cases": "4",
                "points": "400.0000",
                "self_pay": "8000.00",
                "payment": "0.00",
                "pv": "225.000000",
            },
            {
                "month": "2025-04",
                "cases": "3",
                "points": "300.0000",
                "self_pay": "6456.78",
                "payment": "372839.50",
                "pv": "219.900000",
            },
        ],
    }
