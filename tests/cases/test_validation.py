"""Each validation rule refuses its bad row with the field and the reason (pure, no database)."""

from __future__ import annotations

import pytest

from dianshu.cases.validation import RowValidator
from dianshu.codes.codebook import load_codebook
from tests.cases.rows import row


@pytest.fixture(scope="module")
def v():
    return RowValidator(load_codebook())


def test_a_valid_row_is_typed_exactly(v):
    values, errors = v.validate(row())
    assert errors == []
    assert str(values["total_cost"]) == "8000.00" and values["fund_type"] == "employee"
    assert values["diagnoses"] == ["J18.900", "I10.x00x002"] and values["dx_admit_cond"] == [1, 1]
    assert values["los_days"] == 5 and str(values["discharge_month"]) == "2024-03-01"
    assert [str(c) for c in values["charges"]][:2] == ["400.00", "100.00"]


CASES = [
    ("missing list id", dict(setl_id=""), "setl_id", "required"),
    ("missing principal", dict(diag_codes=""), "diag_codes", "required: at least the principal diagnosis"),
    ("malformed sex", dict(gend="M"), "gend", "must be a whole number (got 'M')"),
    ("sex out of range", dict(gend="3"), "gend", "must be one of 1, 2 (got 3)"),
    ("unknown fund type", dict(insutype="999"), "insutype", "must be 310 (employee) or 390 (resident) (got 999)"),
    ("malformed date", dict(adm_time="2024-13-01 09:00"), "adm_time", "not a real date/time '2024-13-01 09:00'"),
    ("garbage date", dict(dscg_time="yesterday"), "dscg_time", "malformed value 'yesterday'"),
    (
        "unknown code",
        dict(diag_codes="J18.900|Q99.999x999"),
        "diag_codes",
        "diagnosis 2 Q99.999x999 is not a 医保版 ICD-10 v2.0 code",
    ),
    (
        "grey principal",
        dict(diag_codes="I48.900"),
        "diag_codes",
        "principal diagnosis I48.900 is a grey code (not valid as principal)",
    ),
    (
        "external cause as principal",
        dict(diag_codes="V01.x00|J18.900", adm_cond_types="1|1"),
        "diag_codes",
        "principal diagnosis V01.x00: an external cause (V01-Y98) cannot be the principal diagnosis",
    ),
    (
        "unknown procedure",
        dict(oprn_oprt_codes="99.9999", oprn_oprt_dates="2024-03-02"),
        "oprn_oprt_codes",
        "procedure 1 99.9999 is not a 医保版 ICD-9-CM-3 v2.0 code",
    ),
    (
        "discharge before admission",
        dict(dscg_time="2024-02-28 10:00", act_ipt_days="1"),
        "dscg_time",
        "discharge 2024-02-28 10:00:00 is before admission 2024-03-01 09:00:00",
    ),
    ("birth after admission", dict(brdy="2025-01-01"), "brdy", "birth date 2025-01-01 is after admission 2024-03-01"),
    (
        "procedure outside the stay",
        dict(oprn_oprt_codes="47.0100", oprn_oprt_dates="2024-04-01"),
        "oprn_oprt_dates",
        "procedure 1 on 2024-04-01 is outside the stay",
    ),
    ("LOS inconsistent", dict(act_ipt_days="7"), "act_ipt_days", "7 days, but the dates give 5"),
    (
        "charges not summing",
        dict(med_chrgitm_01="401.00"),
        "medfee_sumamt",
        "the 14 charge categories sum to 8001.00, not 8000.00",
    ),
    (
        "payments not summing",
        dict(psn_ownpay="400.00"),
        "fund_pay_sumamt",
        "fund 6000.00 + self-pay 1500.00 + own-pay 400.00 = 7900.00, not the total 8000.00",
    ),
    (
        "fractions of a fen",
        dict(med_chrgitm_14="190.001"),
        "med_chrgitm_14",
        "has more than 2 decimal places (got 190.001): amounts are in fen",
    ),
    ("negative amount", dict(psn_selfpay="-1.00"), "psn_selfpay", "must be a non-negative amount (got -1.00)"),
    ("admission condition count", dict(adm_cond_types="1"), "adm_cond_types", "1 values for 2 diagnoses"),
]


@pytest.mark.parametrize(("name", "over", "field", "reason"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_refuses_its_row(v, name, over, field, reason):
    values, errors = v.validate(row(**over))
    assert values is None
    assert (field, reason) in [(e.field, e.reason) for e in errors], errors


def test_same_day_stay_counts_one_day(v):
    values, errors = v.validate(row(dscg_time="2024-03-01 18:00", act_ipt_days="1"))
    assert errors == [] and values["los_days"] == 1


def test_guolin_codes_are_accepted_and_kept_as_sent(v):
    values, errors = v.validate(row(diag_codes="J10.000x011", adm_cond_types="1", code_ver="guolin"))
    assert errors == [] and values["diagnoses"] == ["J10.000x011"] and values["coding"] == "guolin"


def test_the_future_tolerance_is_measured_from_now():
    """Discharge 2024-03-06 10:00 against now = 2024-03-06 09:00 (Beijing time): one hour ahead."""
    from datetime import datetime, timedelta

    cb = load_codebook()
    now = datetime(2024, 3, 6, 9, 0)
    within = RowValidator(cb, now=now, future_tolerance=timedelta(hours=1))
    assert within.validate(row())[1] == []
    strict = RowValidator(cb, now=now, future_tolerance=timedelta(minutes=59))
    assert [(e.field, e.reason) for e in strict.validate(row())[1]] == [
        ("dscg_time", "2024-03-06 10:00 is in the future (after 2024-03-06 09:59 Beijing time)")
    ]


def test_the_future_tolerance_is_configured(monkeypatch):
    from dianshu.config import Settings

    assert Settings().ingest_future_tolerance_hours == 24
    monkeypatch.setenv("DIANSHU_INGEST_FUTURE_TOLERANCE_HOURS", "2")
    assert Settings().ingest_future_tolerance_hours == 2


def test_hours_may_fill_a_stay_given_by_dates_only(v):
    """Admission and discharge without a time of day: the stay touches 6 calendar days, 144 hours."""
    ok, errors = v.validate(row(adm_time="2024-03-01", dscg_time="2024-03-06", scs_cutd_sum_dura="144"))
    assert errors == [] and str(ok["icu_hours"]) == "144.00"
    _, errors = v.validate(row(adm_time="2024-03-01", dscg_time="2024-03-06", scs_cutd_sum_dura="144.01"))
    assert [(e.field, e.reason) for e in errors] == [
        ("scs_cutd_sum_dura", "144.01 hours, longer than the stay (144.00 hours)")
    ]


def test_a_newborn_keeps_its_days_and_weight(v):
    values, errors = v.validate(row(age="0", brdy="2024-02-20", nwb_age="10", nwb_bir_wt="3100"))
    assert errors == [] and (values["age_days"], values["birth_weight_g"]) == (10, 3100)


@pytest.mark.parametrize("levels", ["x", ":", "2|x", "-1", "1.0"])
def test_a_procedure_level_that_is_not_a_number_refuses_the_row_without_an_exception(v, levels):
    over = dict(oprn_oprt_codes="47.0100|47.0100", oprn_oprt_dates="2024-03-02|2024-03-02")
    if "|" not in levels:
        over = dict(oprn_oprt_codes="47.0100", oprn_oprt_dates="2024-03-02")
    values, errors = v.validate(row(oprn_oprt_lvs=levels, **over))
    assert values is None
    assert ("oprn_oprt_lvs", "one level (1-4) per procedure") in [(e.field, e.reason) for e in errors]
