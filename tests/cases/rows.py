"""Valid settlement-list rows for tests, and files in the ingestion layouts."""

from __future__ import annotations

import csv
import gzip
import io
import json
from decimal import Decimal

from dianshu.cases.layout import CHARGE_COLUMNS, NAMES


def row(list_id: str = "L1", hospital: str = "H1", **over) -> dict[str, str]:
    """A valid pneumonia stay: 5 days, 8,000.00 yuan (fund 6,000.00, self 1,500.00, own 500.00)."""
    charges = [
        "400.00",
        "100.00",
        "900.00",
        "800.00",
        "700.00",
        "0.00",
        "300.00",
        "500.00",
        "3800.00",
        "0.00",
        "200.00",
        "100.00",
        "10.00",
        "190.00",
    ]
    assert sum(Decimal(c) for c in charges) == Decimal("8000.00")
    r = {
        "setl_id": list_id,
        "fixmedins_code": hospital,
        "medcasno": f"MR{list_id}",
        "psn_no": f"P{list_id}",
        "gend": "1",
        "brdy": "1960-05-01",
        "age": "64",
        "insutype": "310",
        "insu_place": "1",
        "adm_way": "2",
        "adm_time": "2024-03-01 09:00",
        "adm_caty": "呼吸内科",
        "dscg_time": "2024-03-06 10:00",
        "dscg_caty": "呼吸内科",
        "act_ipt_days": "5",
        "dscg_way": "1",
        "days_rinp_flag_31": "0",
        "diag_codes": "J18.900|I10.x00x002",
        "adm_cond_types": "1|1",
        "oprn_oprt_codes": "",
        "oprn_oprt_dates": "",
        "oprn_oprt_lvs": "",
        "medfee_sumamt": "8000.00",
        "fund_pay_sumamt": "6000.00",
        "psn_selfpay": "1500.00",
        "psn_ownpay": "500.00",
    }
    r.update(dict(zip(CHARGE_COLUMNS, charges, strict=True)))
    r.update({k: str(v) for k, v in over.items()})
    return r


def csv_bytes(rows: list[dict[str, str]], gz: bool = False) -> bytes:
    buf = io.StringIO()
    header = [c for c in NAMES if any(c in r for r in rows)]
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    data = buf.getvalue().encode("utf-8")
    return gzip.compress(data) if gz else data


def jsonl_bytes(rows: list[dict], gz: bool = False) -> bytes:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    return gzip.compress(data) if gz else data
