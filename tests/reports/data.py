"""A hand-made statement (the shape of runs.figures.statement_data) for the report tests: the
monthly pre-settlement of April 2025 of one hospital, its figures worked by hand (SPEC §6):

PV_provisional = 1297 / 12 = 108.083333… (shown to 6 places: 108.083333)
points P_h = 300 + 234.5678 + 400 + 300 = 1,234.5678; self-pay S_h = 5,000 + 4,000 + 8,000 + 6,456.78 = 23,456.78
due   = fen(1,234.5678 × 1297/12 − 23,456.78) = fen(133,436.20305 − 23,456.78) = fen(109,979.42305) = 109,979.42
payable = fen(109,979.42305 × 0.95) = fen(104,480.451898) = 104,480.45; holdback = due − payable = 1,498.97
paid before (Jan–Mar) = 30,000 + 25,000 + 25,000 = 80,000.00; payment = 104,480.45 − 80,000.00 = 24,480.45
The monthly provisional values 207.1–225.0 (a region whose value moved) draw the PV chart."""

from __future__ import annotations

from dianshu.settlement.runs.figures import LINE_FIELDS

RUN_ID = "0b6f4a52-8a37-4c1e-9d0e-3f1f5c2a7b19"


def _month(m: str, cases: str, points: str, self_pay: str, payment: str, pv: str) -> dict:
    return {"month": m, "cases": cases, "points": points, "self_pay": self_pay, "payment": payment, "pv": pv}


def statement() -> dict:
    line = dict.fromkeys(LINE_FIELDS) | {
        "cases": "12",
        "points": "1234.5678",
        "deductions": "0.0000",
        "self_pay": "23456.78",
        "due": "109979.42",
        "payable": "104480.45",
        "holdback": "1498.97",
        "paid_before": "80000.00",
        "payment": "24480.45",
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
        "figures": {  # the region's totals as the run stores them
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
            _month("2025-01", "3", "300.0000", "5000.00", "30000.00", "207.100000"),
            _month("2025-02", "2", "234.5678", "4000.00", "25000.00", "215.300000"),
            _month("2025-03", "4", "400.0000", "8000.00", "25000.00", "225.000000"),
            _month("2025-04", "3", "300.0000", "6456.78", "24480.45", "219.900000"),
        ],
    }


def overview() -> list[dict]:
    """Three regions of one ledger; PV 207.5–225.1 (the axis must not start at zero)."""

    def row(region: str, name: str, f: str, pv: str, status: str = "published") -> dict:
        return {
            "region": region,
            "name": name,
            "ledger": "employee",
            "run": RUN_ID,
            "version": 1,
            "status": status,
            "T": "60000.00",
            "R": "3000.00",
            "B": "57000.00",
            "E": "56000.00",
            "F": f,
            "P": "600.0000",
            "S": "8000.00",
            "PV": pv,
            "hospitals": 2,
        }

    return [
        row("330702", "婺城区", "56850.00", "207.500000"),
        row("330703", "金东区", "61695.00", "225.100000", "draft"),
        row("330781", "兰溪市", "58000.50", "215.000000"),
    ]
