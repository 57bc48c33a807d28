"""Validate one settlement-list row (pure: plain values in, a typed row or field errors out).

Every refusal names the field and the reason; the caller adds the row number. Nothing is
changed silently: values are parsed, never corrected (empty charge categories are zero)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from dianshu.cases.layout import CHARGE_COLUMNS, FUND_TYPES, MULTI
from dianshu.codes.codebook import CodeBook

CENT = Decimal("0.01")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")
_ID = re.compile(r"^[0-9A-Za-z_.\-]{1,50}$")
_AMOUNT = re.compile(r"^\d{1,10}(?:\.\d{1,2})?$")  # the common, well-formed case: no further checks


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    reason: str


def principal_refusal(code: str) -> str | None:
    """Why a (known) code may not be the principal diagnosis, or None."""
    if code[:1] in "VWXY":
        return "an external cause (V01-Y98) cannot be the principal diagnosis"
    if code.endswith("*") and "+" not in code:
        return "an asterisk (manifestation) code cannot be the principal diagnosis"
    if re.match(r"^M\d{4,5}/\d", code):
        return "a morphology code cannot be the principal diagnosis"
    return None


def _split(v: Any) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, list | tuple):
        return [str(x).strip() for x in v]
    return [x.strip() for x in str(v).split("|")]


class RowValidator:
    """Checks rows against the code book; returns (values, errors) per row."""

    def __init__(self, codebook: CodeBook) -> None:
        self.cb = codebook
        self.plain_dx = codebook.diagnoses.plain
        self.plain_px = codebook.procedures.plain

    def validate(self, raw: dict[str, Any]) -> tuple[dict[str, Any] | None, list[FieldError]]:
        e: list[FieldError] = []
        v: dict[str, Any] = {}

        def text(name: str, required: bool, pattern: re.Pattern[str] | None = None, max_len: int = 100) -> str | None:
            x = raw.get(name)
            x = "" if x is None else str(x).strip()
            if not x:
                if required:
                    e.append(FieldError(name, "required"))
                return None
            if len(x) > max_len or (pattern is not None and not pattern.match(x)):
                e.append(FieldError(name, f"malformed value {x[:40]!r}"))
                return None
            return x

        def integer(name: str, required: bool, lo: int, hi: int, allowed: tuple[int, ...] | None = None) -> int | None:
            x = raw.get(name)
            if x is None or str(x).strip() == "":
                if required:
                    e.append(FieldError(name, "required"))
                return None
            try:
                n = int(str(x).strip())
            except ValueError:
                e.append(FieldError(name, f"must be a whole number (got {str(x)[:20]!r})"))
                return None
            if allowed is not None and n not in allowed:
                e.append(FieldError(name, f"must be one of {', '.join(map(str, allowed))} (got {n})"))
                return None
            if not lo <= n <= hi:
                e.append(FieldError(name, f"must be between {lo} and {hi} (got {n})"))
                return None
            return n

        def money(name: str, required: bool) -> Decimal | None:
            x = raw.get(name)
            # The common case, "12345.67", checked without a regex; canonical two places.
            if type(x) is str and x[-3:-2] == "." and x[-2:].isdigit() and x[:-3].isdigit() and len(x) <= 13:
                return Decimal(x)
            if isinstance(x, str) and _AMOUNT.match(x):
                return Decimal(x).quantize(CENT)  # "8000" and "8000.00" are the same content
            if x is None or str(x).strip() == "":
                if required:
                    e.append(FieldError(name, "required"))
                    return None
                return Decimal("0.00")
            try:
                d = Decimal(str(x).strip())
            except InvalidOperation:
                e.append(FieldError(name, f"must be an amount in yuan (got {str(x)[:20]!r})"))
                return None
            if not d.is_finite() or d < 0:
                e.append(FieldError(name, f"must be a non-negative amount (got {x})"))
                return None
            if d != d.quantize(CENT):
                e.append(FieldError(name, f"has more than 2 decimal places (got {x}): amounts are in fen"))
                return None
            return d.quantize(CENT)

        def hours(name: str) -> Decimal | None:
            x = raw.get(name)
            if x is None or str(x).strip() == "":
                return None
            try:
                d = Decimal(str(x).strip())
                if not d.is_finite() or d < 0 or d > Decimal(100000):
                    raise InvalidOperation
            except InvalidOperation:
                e.append(FieldError(name, f"must be a number of hours ≥ 0 (got {str(x)[:20]!r})"))
                return None
            return d.quantize(CENT)

        def when(name: str, required: bool) -> datetime | None:
            x = text(name, required, _TIME, 25)
            if x is None:
                return None
            try:
                return datetime.fromisoformat(x.replace("T", " "))
            except ValueError:
                e.append(FieldError(name, f"not a real date/time {x!r}"))
                return None

        v["list_id"] = text("setl_id", True, _ID, 50)
        v["hospital_id"] = text("fixmedins_code", True, _ID, 20)
        v["mrn"] = text("medcasno", True, None, 50)
        v["patient_id"] = text("psn_no", True, None, 64)
        v["sex"] = integer("gend", True, 1, 2, (1, 2))
        birth = when("brdy", False)
        v["birth_date"] = birth.date() if birth else None
        v["age_years"] = integer("age", True, 0, 150)
        v["age_days"] = integer("nwb_age", False, 0, 365)
        v["birth_weight_g"] = integer("nwb_bir_wt", False, 100, 10000)
        v["admit_weight_g"] = integer("nwb_adm_wt", False, 100, 20000)
        insutype = text("insutype", True, None, 5)
        if insutype is not None and insutype not in FUND_TYPES:
            e.append(FieldError("insutype", f"must be 310 (employee) or 390 (resident) (got {insutype})"))
        v["fund_type"] = FUND_TYPES.get(insutype or "")
        v["insured_place"] = integer("insu_place", True, 1, 3, (1, 2, 3))
        v["admission_route"] = integer("adm_way", False, 1, 9, (1, 2, 3, 9))
        admit, discharge = when("adm_time", True), when("dscg_time", True)
        v["admit_time"], v["discharge_time"] = admit, discharge
        v["admit_dept"] = text("adm_caty", False, None, 50)
        v["discharge_dept"] = text("dscg_caty", False, None, 50)
        v["los_days"] = integer("act_ipt_days", True, 0, 36500)
        v["discharge_way"] = integer("dscg_way", True, 1, 9, (1, 2, 3, 4, 5, 9))
        flag = integer("days_rinp_flag_31", False, 0, 1, (0, 1))
        v["readmit_planned"] = bool(flag)
        coding = text("code_ver", False, None, 10) or "yibao"
        if coding not in ("yibao", "guolin"):
            e.append(FieldError("code_ver", f"must be yibao or guolin (got {coding})"))
        v["coding"] = coding
        v["vent_hours"] = hours("vent_used_dura")
        v["icu_hours"] = hours("scs_cutd_sum_dura")
        v["correction"] = integer("correction", False, 0, 1, (0, 1)) == 1

        # Diagnoses and procedures: codes must be valid (after 国临版 translation, kept as sent).
        parts = {m: _split(raw.get(m)) for m in MULTI}
        dxs = parts["diag_codes"]
        if not dxs or not dxs[0]:
            e.append(FieldError("diag_codes", "required: at least the principal diagnosis"))
        plain_dx = self.plain_dx if coding == "yibao" else frozenset()
        for i, code in enumerate(dxs, start=1):
            if code in plain_dx and (i > 1 or code[:1] not in "VWXY"):
                continue  # a valid, non-grey 医保版 code (and not an external cause as principal)
            st = self.cb.diagnoses.check(code, coding)
            label = "principal diagnosis" if i == 1 else f"diagnosis {i}"
            if not code:
                e.append(FieldError("diag_codes", f"{label} is empty"))
            elif not st.known:
                e.append(FieldError("diag_codes", f"{label} {code} is not a 医保版 ICD-10 v2.0 code"))
            elif i == 1 and st.grey:
                e.append(
                    FieldError("diag_codes", f"principal diagnosis {code} is a grey code (not valid as principal)")
                )
            elif i == 1 and (why := principal_refusal(st.code)):
                e.append(FieldError("diag_codes", f"principal diagnosis {code}: {why}"))
        conds = parts["adm_cond_types"]
        if conds and len(conds) != len(dxs):
            e.append(FieldError("adm_cond_types", f"{len(conds)} values for {len(dxs)} diagnoses"))
        elif conds and any(c not in ("1", "2", "3", "4") for c in conds):
            e.append(FieldError("adm_cond_types", "each must be 1, 2, 3 or 4"))
        procs = parts["oprn_oprt_codes"]
        plain_px = self.plain_px if coding == "yibao" else frozenset()
        for i, code in enumerate(procs, start=1):
            if code in plain_px:
                continue
            st = self.cb.procedures.check(code, coding)
            if not code:
                e.append(FieldError("oprn_oprt_codes", f"procedure {i} is empty"))
            elif not st.known:
                e.append(FieldError("oprn_oprt_codes", f"procedure {i} {code} is not a 医保版 ICD-9-CM-3 v2.0 code"))
        pdates_raw, levels = parts["oprn_oprt_dates"], parts["oprn_oprt_lvs"]
        pdates: list[date | None] = []
        if pdates_raw and len(pdates_raw) != len(procs):
            e.append(FieldError("oprn_oprt_dates", f"{len(pdates_raw)} dates for {len(procs)} procedures"))
        else:
            for i, d in enumerate(pdates_raw, start=1):
                try:
                    pdates.append(date.fromisoformat(d[:10]) if d else None)
                except ValueError:
                    e.append(FieldError("oprn_oprt_dates", f"procedure {i}: not a date {d!r}"))
        if levels and (len(levels) != len(procs) or any(x not in ("", "1", "2", "3", "4") for x in levels)):
            e.append(FieldError("oprn_oprt_lvs", "one level (1-4) per procedure"))
        v["diagnoses"], v["procedures"] = dxs, procs
        v["dx_admit_cond"] = (
            [int(c) for c in conds]
            if conds and len(conds) == len(dxs) and all(c in ("1", "2", "3", "4") for c in conds)
            else None
        )
        v["proc_dates"] = pdates or None
        v["proc_levels"] = [int(x) if x else None for x in levels] if levels and len(levels) == len(procs) else None

        # Dates in order, LOS consistent.
        if admit and discharge:
            if discharge < admit:
                e.append(FieldError("dscg_time", f"discharge {discharge} is before admission {admit}"))
            elif v["los_days"] is not None:
                expected = max(1, (discharge.date() - admit.date()).days)
                if v["los_days"] != expected:
                    e.append(FieldError("act_ipt_days", f"{v['los_days']} days, but the dates give {expected}"))
            if birth and birth.date() > admit.date():
                e.append(FieldError("brdy", f"birth date {birth.date()} is after admission {admit.date()}"))
            for i, d in enumerate(pdates, start=1):
                if d is not None and not (admit.date() <= d <= discharge.date()):
                    e.append(FieldError("oprn_oprt_dates", f"procedure {i} on {d} is outside the stay"))

        # Money: the 14 charges sum to the total; fund + self-pay + own-pay = total.
        charges = [money(c, False) for c in CHARGE_COLUMNS]
        total = money("medfee_sumamt", True)
        fund, selfpay, ownpay = money("fund_pay_sumamt", True), money("psn_selfpay", True), money("psn_ownpay", True)
        v["charges"] = charges
        v["total_cost"], v["fund_pay"], v["self_pay"], v["own_pay"] = total, fund, selfpay, ownpay
        if total is not None and all(c is not None for c in charges):
            s = sum(charges, Decimal("0.00"))  # type: ignore[arg-type]
            if s != total:
                e.append(FieldError("medfee_sumamt", f"the 14 charge categories sum to {s}, not {total}"))
        if None not in (total, fund, selfpay, ownpay):
            paid = fund + selfpay + ownpay  # type: ignore[operator]
            if paid != total:
                e.append(
                    FieldError(
                        "fund_pay_sumamt",
                        f"fund {fund} + self-pay {selfpay} + own-pay {ownpay} = {paid}, not the total {total}",
                    )
                )
        if e:
            return None, e
        v["discharge_month"] = discharge.date().replace(day=1)  # type: ignore[union-attr]
        return v, []
