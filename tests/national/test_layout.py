"""The national upload layout without a database: the file follows the field table kept in the
project, one line is exactly as written out here, and the bytes do not depend on the order the
cases came in."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from dianshu.national.layout import LayoutViolation, build_file, duration, field_table, line, national_record
from tests.national.layout_check import check_file, table

D = Decimal


def case(list_id="L1", hospital="H1", **over):
    c = {
        "id": 7,
        "hospital_id": hospital,
        "list_id": list_id,
        "mrn": "MR1",
        "patient_id": "P1",
        "sex": 2,
        "birth_date": datetime.date(1960, 5, 1),
        "age_years": 64,
        "age_days": None,
        "birth_weight_g": None,
        "admit_weight_g": None,
        "fund_type": "resident",
        "admission_route": 2,
        "admit_time": datetime.datetime(2024, 3, 1, 9, 0),
        "admit_dept": "呼吸内科",
        "discharge_time": datetime.datetime(2024, 3, 6, 10, 0),
        "discharge_dept": "呼吸内科",
        "los_days": 5,
        "discharge_way": 1,
        "readmit_planned": False,
        "doctor_code": "D001",
        "diagnoses": ["J18.900", "I10.x00x002"],
        "dx_admit_cond": [1, 4],
        "procedures": [],
        "proc_dates": None,
        "vent_hours": None,
        "icu_hours": None,
        "charges": [D("100.00")] + [D("0.00")] * 12 + [D("0.50")],
        "total_cost": D("100.50"),
        "fund_pay": D("80.00"),
        "self_pay": D("20.00"),
        "own_pay": D("0.50"),
    }
    c.update(over)
    return c


def test_the_field_table_is_well_formed():
    """Unique (section, field); the sections in the order a line has them; the types known."""
    rows = table()
    keys = [(r["section"], r["field"]) for r in rows]
    assert len(keys) == len(set(keys)) == len(field_table())
    order = list(dict.fromkeys(r["section"] for r in rows))
    assert order == ["record", "setlinfo", "payinfo", "diseinfo", "oprninfo", "iteminfo", "icuinfo"]
    assert {r["type"] for r in rows} <= {"char", "num", "date", "datetime"}
    assert all(r["name_zh"] and (r["source"] or r["omitted"]) for r in rows)
    assert all(not (r["source"] and r["omitted"]) and not (r["omitted"] and r["required"] == "1") for r in rows)


NAMES = Path(__file__).resolve().parents[2] / "platform/dianshu/national/data/nhsa_4101a_names.txt"


def test_the_field_table_names_are_the_4101a_names():
    """The table's section.field names, omitted ones included, equal the 4101A list kept apart
    (data/nhsa_4101a_names.txt, by hand from the interface), in the same order."""
    kept = [ln.strip() for ln in NAMES.read_text(encoding="utf-8").splitlines() if ln.strip() and ln[0] != "#"]
    assert [f"{r['section']}.{r['field']}" for r in table()] == kept
    assert {"setlinfo.hi_type", "setlinfo.insutype", "setlinfo.medfee_sumamt"} & set(kept) == {"setlinfo.hi_type"}


def test_durations_as_days_hours_minutes():
    """37.40 h = 2244 min = 1 d 13 h 24 min; 0.5 h = 30 min; 23.999 h = 1439.94 min -> 1440 = 1 d;
    96 h = 4 d."""
    assert [duration(D(x)) for x in ("37.40", "0.5", "23.999", "96")] == ["1/13/24", "0/0/30", "1/0/0", "4/0/0"]
    assert duration(None) is None


def test_one_line_exactly():
    """A resident (390 -> hi_type 390, fund_pay_type 390100), no planned readmission (0 -> the
    national 1 无), two diagnoses (the first the principal, 入院病情 1 and 4), no procedure, 14
    charge items (01 100.00, 14 0.50), no ICU: amounts with 2 places, times with seconds."""
    items = ",".join(
        f'{{"med_chrgitm":"{i:02d}","amt":{"100.00" if i == 1 else "0.50" if i == 14 else "0.00"}}}'
        for i in range(1, 15)
    )
    expected = (
        '{"upld_flag":"0","setlinfo":{"setl_id":"L1","fixmedins_code":"H1","fixmedins_name":"第一医院",'
        '"medcasno":"MR1","psn_no":"P1","gend":"2","brdy":"1960-05-01","age":64,"nwb_age":null,'
        '"nwb_bir_wt":null,"nwb_adm_wt":null,"hi_type":"390","adm_way":"2","adm_time":"2024-03-01 09:00:00",'
        '"adm_caty":"呼吸内科","dscg_time":"2024-03-06 10:00:00","dscg_caty":"呼吸内科","act_ipt_days":5,'
        '"dscg_way":"1","days_rinp_flag_31":"1","chfpdr_code":"D001","diag_code_cnt":2,"oprn_oprt_code_cnt":0,'
        '"vent_used_dura":null,"psn_selfpay":20.00,"psn_ownpay":0.50},'
        '"payinfo":[{"fund_pay_type":"390100","fund_payamt":80.00}],'
        '"diseinfo":[{"diag_type":"1","diag_code":"J18.900","maindiag_flag":"1","adm_cond_type":"1"},'
        '{"diag_type":"1","diag_code":"I10.x00x002","maindiag_flag":"0","adm_cond_type":"4"}],'
        '"oprninfo":[],"iteminfo":[' + items + '],"icuinfo":[]}\n'
    )
    assert line(national_record(case(), "第一医院", 0)) == expected


def test_the_file_follows_the_field_table():
    """A surgical stay with ICU and ventilation hours, a newborn, a planned readmission and a
    corrected and a withdrawn list: every line checks against the table."""
    entries = [
        (case(), "第一医院", 0),
        (
            case(
                "L2",
                procedures=["36.0600x001", "88.5500"],
                proc_dates=[datetime.date(2024, 3, 2), None],
                icu_hours=D("30.50"),
                vent_hours=D("12.00"),
                readmit_planned=True,
                fund_type="employee",
                doctor_code=None,
                admission_route=None,
                dx_admit_cond=None,
            ),
            "第一医院",
            1,
        ),
        (
            case("N1", "H2", age_years=0, age_days=3, birth_weight_g=3200, admit_weight_g=3100, birth_date=None),
            "第二医院",
            2,
        ),
    ]
    built = build_file(entries)
    assert check_file(built.content) == []
    assert built.lists == 3 and built.counts == {0: 1, 1: 1, 2: 1}
    assert built.sha256 == hashlib.sha256(built.content).hexdigest()
    # Same data in another order: the same bytes (lines by hospital, then list id).
    again = build_file(list(reversed(entries)))
    assert again.content == built.content and again.sha256 == built.sha256
    lines = built.content.decode().splitlines()
    assert [ln.split('"setl_id":"')[1].split('"')[0] for ln in lines] == ["L1", "L2", "N1"]
    assert '"days_rinp_flag_31":"2"' in lines[1] and '"icuinfo":[{"scs_cutd_sum_dura":"1/6/30"}]' in lines[1]
    assert '"vent_used_dura":"0/12/0"' in lines[1]
    assert (
        '"oprninfo":[{"oprn_oprt_type":"1","oprn_oprt_code":"36.0600x001","oprn_oprt_date":"2024-03-02"},' in lines[1]
    )


def test_a_value_outside_the_table_is_refused():
    with pytest.raises(LayoutViolation, match="fixmedins_name"):
        line(national_record(case(), "医" * 201, 0))
    with pytest.raises(LayoutViolation, match="medcasno"):
        line(national_record(case(mrn=None), "第一医院", 0))


def test_a_coded_value_outside_the_table_is_refused():
    """A code the field's values column does not list: refused naming the list and the field."""
    with pytest.raises(LayoutViolation, match=r"H1/L1: setlinfo.gend .*'3' is not one of \['1', '2'\]"):
        line(national_record(case(sex=3), "第一医院", 0))
    with pytest.raises(LayoutViolation, match=r"H1/L1: setlinfo.dscg_way"):
        line(national_record(case(discharge_way=7), "第一医院", 0))
    with pytest.raises(LayoutViolation, match=r"H1/L1: diseinfo.adm_cond_type"):
        line(national_record(case(dx_admit_cond=[1, 8]), "第一医院", 0))
