"""Validate one settlement-list row (pure: plain values in, a typed row or field errors out).

Every refusal names the field and the reason; the caller adds the row number. Nothing is
changed silently: values are parsed, never corrected (empty charge categories are zero)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from dianshu.cases.layout import CHARGE_COLUMNS, FUND_TYPES, MULTI
from dianshu.codes.codebook import CodeBook

CENT = Decimal("0.01")
# Beijing time, the settlement list's clock (no daylight saving since 1991).
CHINA = timezone(timedelta(hours=8), "CST")
EARLIEST = datetime(1900, 1, 1)
DEFAULT_FUTURE_TOLERANCE = timedelta(hours=24)
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$", re.ASCII)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_ID = re.compile(r"^[0-9A-Za-z_.\-]+$", re.ASCII)
_WHOLE = re.compile(r"^-?\d+$", re.ASCII)
_DECIMAL = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$", re.ASCII)
# C0 and C1 controls, DEL, and lone surrogates (from JSON "\ud800"): PostgreSQL refuses NUL and
# a surrogate cannot be encoded; none belongs in a settlement list.
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

# Length limits (characters), after the national settlement list (医保结算清单 4101A) where it
# gives one and never above the database column: see the README's "Input limits".
MAX_LEN = {
    "setl_id": 30,
    "fixmedins_code": 20,
    "medcasno": 40,
    "psn_no": 40,
    "insutype": 6,
    "adm_caty": 50,
    "dscg_caty": 50,
    "chfpdr_code": 30,
    "code_ver": 10,
}
MONEY_COLUMNS = (*CHARGE_COLUMNS, "medfee_sumamt", "fund_pay_sumamt", "psn_selfpay", "psn_ownpay")
# The 18 amounts joined by commas, each in the canonical form ("12345.67", at most 10 digits
# before the point) and each charge possibly empty. No amount holding a comma can match: the 17
# joining commas are all the pattern has room for.
_MONEY_ROW = re.compile(r"(?:(?:[0-9]{1,10}\.[0-9]{2})?,){14}(?:[0-9]{1,10}\.[0-9]{2},){3}[0-9]{1,10}\.[0-9]{2}")
_CONDS = frozenset(("1", "2", "3", "4"))  # 入院病情, per diagnosis
_LEVELS = frozenset(("", "1", "2", "3", "4"))  # 手术级别, per procedure (may be empty)
MAX_CODE_LEN = 30  # one diagnosis or procedure code
MAX_ITEMS = 50  # diagnoses, procedures (and their per-item lists) per stay
MAX_YUAN_DIGITS = 10  # NUMERIC(12, 2): below 10,000,000,000.00 yuan
MAX_HOURS_DIGITS = 6  # NUMERIC(8, 2)


class ShapedRow(dict[str, str | None]):
    """A row whose values were shape-checked all at once (the reader checks the whole line, CSV
    or JSON): every value is a str (empty for an empty field) or None, with no control character
    or lone surrogate (the line is printable), no whitespace at either end and none next to a '|'.
    For such a row RowValidator.validate skips its per-value shape checks, which would find
    nothing; a plain dict gets them. Build one only where that promise has been checked."""

    __slots__ = ()


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


def china_now() -> datetime:
    """Now on the settlement list's clock, naive like the lists' own times."""
    return datetime.now(CHINA).replace(tzinfo=None)


def _scalar_refusal(x: Any) -> str | None:
    """Why a JSON value cannot stand for one field value, or None. Strings and JSON numbers
    (int, Decimal) can; a float would already have rounded an amount."""
    if isinstance(x, bool):
        return "must be a string or a number, not true/false"
    if isinstance(x, dict):
        return "must be a single value, not an object"
    if isinstance(x, list | tuple):
        return "must be a single value, not an array"
    if isinstance(x, float):
        return "must be a string or an exact number, not a binary float"
    if not isinstance(x, str | int | Decimal):
        return f"must be a string or a number, not {type(x).__name__}"
    return None


def _text_refusal(x: str) -> str | None:
    # isprintable() is the fast test (False for every control and surrogate, and a few more).
    if not x.isprintable() and (m := CONTROL_CHARS.search(x)):
        return f"contains a control character (U+{ord(m.group()):04X}) at position {m.start() + 1}"
    if x[:1].isspace() or x[-1:].isspace():
        return "has leading or trailing spaces"
    return None


class RowValidator:
    """Checks rows against the code book; returns (values, errors) per row.

    `now` (Beijing time) and `future_tolerance` bound the dates: nothing after now + tolerance."""

    def __init__(
        self,
        codebook: CodeBook,
        *,
        now: datetime | None = None,
        future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
    ) -> None:
        self.cb = codebook
        self.plain_dx = codebook.diagnoses.plain
        self.plain_px = codebook.procedures.plain
        self.latest = (now or china_now()) + future_tolerance

    @staticmethod
    def _shape(raw: dict[str, Any], e: list[FieldError]) -> dict[str, str | list[str] | None]:
        """Each value checked for shape: None for empty, a str, or a list of str for a
        multi-valued field; a value refused here (its FieldError added to `e`) is left out."""
        vals: dict[str, str | list[str] | None] = {}
        for name, x in raw.items():
            if type(x) is str and x.isprintable() and not (x[:1].isspace() or x[-1:].isspace()):
                # The common case, a clean string (isprintable: no control character, no surrogate).
                if name not in MULTI:
                    vals[name] = x or None
                    continue
                if "| " not in x and " |" not in x:
                    vals[name] = x.split("|") if x else None
                    continue
            if x is None or x == "":
                vals[name] = None
                continue
            if name in MULTI and isinstance(x, list | tuple):
                why = next((w for item in x if (w := _scalar_refusal(item))), None)
                if why:
                    e.append(FieldError(name, f"each item {why}"))
                    continue
                items = [str(item) for item in x]
                why = next((w for item in items if (w := _text_refusal(item))), None)
                if why:
                    e.append(FieldError(name, why))
                    continue
                vals[name] = items
                continue
            if why := _scalar_refusal(x):
                e.append(FieldError(name, why))
                continue
            t = str(x)
            if not t.strip():
                vals[name] = None  # blank is empty
                continue
            if name in MULTI:
                items = t.split("|")
                why = next((w for item in items if (w := _text_refusal(item))), None)
                vals[name] = None if why else items
            else:
                why = _text_refusal(t)
                vals[name] = None if why else t
            if why:
                e.append(FieldError(name, why))
        return vals

    def validate(self, raw: dict[str, Any]) -> tuple[dict[str, Any] | None, list[FieldError]]:
        e: list[FieldError] = []
        v: dict[str, Any] = {}
        # First the shape of every value: one string or number (a list where the field is
        # multi-valued), no control characters, no padding. A field refused here is not read again.
        # A ShapedRow was checked by line (every value a clean str, or None): it is read as it is,
        # "" as empty, a multi-valued field split where it is read; the per-value checks would find
        # nothing.
        vals: dict[str, str | list[str] | None] = raw if type(raw) is ShapedRow else self._shape(raw, e)
        bad = {err.field for err in e}

        def get(name: str) -> str | None:
            x = vals.get(name) or None
            assert not isinstance(x, list)
            return x

        def text(name: str, required: bool, pattern: re.Pattern[str] | None = None, max_len: int = 100) -> str | None:
            x: str | None = vals.get(name) or None  # type: ignore[assignment]  (as get(), inlined)
            if x is None:
                if required and name not in bad:
                    e.append(FieldError(name, "required"))
                return None
            if len(x) > max_len:
                e.append(FieldError(name, f"longer than {max_len} characters ({len(x):,})"))
                return None
            if pattern is not None and not pattern.match(x):
                e.append(FieldError(name, f"malformed value {x[:40]!r}"))
                return None
            return x

        def integer(name: str, required: bool, lo: int, hi: int, allowed: tuple[int, ...] | None = None) -> int | None:
            x: str | None = vals.get(name) or None  # type: ignore[assignment]  (as get(), inlined)
            if x is None:
                if required and name not in bad:
                    e.append(FieldError(name, "required"))
                return None
            # ASCII digits (most values) pass without the regex, which they would match.
            if not ((x.isdigit() and x.isascii()) or _WHOLE.match(x)) or len(x) > 12:
                e.append(FieldError(name, f"must be a whole number (got {x[:20]!r})"))
                return None
            n = int(x)
            if allowed is not None and n not in allowed:
                e.append(FieldError(name, f"must be one of {', '.join(map(str, allowed))} (got {n})"))
                return None
            if not lo <= n <= hi:
                e.append(FieldError(name, f"must be between {lo} and {hi} (got {n})"))
                return None
            return n

        def decimal(name: str, x: str, max_digits: int, money: bool) -> Decimal | None:
            """A non-negative decimal, at most 2 places and `max_digits` before the point (the
            NUMERIC column's range); read exactly, never rounded."""
            what, noun, unit = (
                ("an amount in yuan", "amount", "yuan") if money else ("a number of hours", "number of hours", "hours")
            )
            m = _DECIMAL.match(x)
            if m is None:
                e.append(FieldError(name, f"must be {what} (got {x[:20]!r})"))
                return None
            if m.group(1):
                e.append(FieldError(name, f"must be a non-negative {noun} (got {x[:20]})"))
                return None
            if len(m.group(2).lstrip("0")) > max_digits:
                shown = x if len(x) <= 24 else x[:20] + "…"
                e.append(FieldError(name, f"must be less than {10**max_digits:,} {unit} (got {shown})"))
                return None
            if (m.group(3) or "").rstrip("0")[2:]:
                why = f"has more than 2 decimal places (got {x[:30]})" + (": amounts are in fen" if money else "")
                e.append(FieldError(name, why))
                return None
            return Decimal(x).quantize(CENT)  # "8000" and "8000.00" are the same value

        def money(name: str, required: bool) -> Decimal | None:
            x = vals.get(name)
            # The common case, "12345.67", checked without a regex; canonical two places.
            if type(x) is str and x[-3:-2] == "." and x[-2:].isdigit() and x[:-3].isdigit() and len(x) <= 13:
                if x.isascii():
                    return Decimal(x)
            if not x:  # None, or "" in a shaped row
                if name in bad:
                    return None
                if required:
                    e.append(FieldError(name, "required"))
                    return None
                return Decimal("0.00")
            return decimal(name, get(name) or "", MAX_YUAN_DIGITS, True)

        def hours(name: str) -> Decimal | None:
            x = get(name)
            if x is None:
                return None
            return decimal(name, x, MAX_HOURS_DIGITS, False)

        def when(name: str, required: bool) -> datetime | None:
            x = text(name, required, _TIME, 25)
            if x is None:
                return None
            try:
                t = datetime.fromisoformat(x.replace("T", " "))
            except ValueError:
                e.append(FieldError(name, f"not a real date/time {x!r}"))
                return None
            return t if plausible(name, t, x) else None

        def plausible(name: str, t: datetime, x: str) -> bool:
            if t < EARLIEST:
                e.append(FieldError(name, f"{x} is before {EARLIEST:%Y-%m-%d}"))
                return False
            if t > self.latest:
                e.append(FieldError(name, f"{x} is in the future (after {self.latest:%Y-%m-%d %H:%M} Beijing time)"))
                return False
            return True

        v["list_id"] = text("setl_id", True, _ID, MAX_LEN["setl_id"])
        v["hospital_id"] = text("fixmedins_code", True, _ID, MAX_LEN["fixmedins_code"])
        v["mrn"] = text("medcasno", True, None, MAX_LEN["medcasno"])
        v["patient_id"] = text("psn_no", True, None, MAX_LEN["psn_no"])
        v["sex"] = integer("gend", True, 1, 2, (1, 2))
        birth = when("brdy", False)
        v["birth_date"] = birth.date() if birth else None
        age = v["age_years"] = integer("age", True, 0, 150)
        # The newborn fields (年龄(天), 新生儿体重) belong to patients under one year only. 365 days
        # can still be under one year in a leap year.
        v["age_days"] = integer("nwb_age", False, 0, 365)
        v["birth_weight_g"] = integer("nwb_bir_wt", False, 100, 10000)
        v["admit_weight_g"] = integer("nwb_adm_wt", False, 100, 20000)
        if age is not None and age > 0:
            for name, key in (
                ("nwb_age", "age_days"),
                ("nwb_bir_wt", "birth_weight_g"),
                ("nwb_adm_wt", "admit_weight_g"),
            ):
                if v[key] is not None:
                    e.append(
                        FieldError(
                            name, f"given for a patient aged {age} years: only for patients under one year (age 0)"
                        )
                    )
        insutype = text("insutype", True, None, MAX_LEN["insutype"])
        if insutype is not None and insutype not in FUND_TYPES:
            e.append(FieldError("insutype", f"must be 310 (employee) or 390 (resident) (got {insutype})"))
        v["fund_type"] = FUND_TYPES.get(insutype or "")
        v["insured_place"] = integer("insu_place", True, 1, 3, (1, 2, 3))
        v["admission_route"] = integer("adm_way", False, 1, 9, (1, 2, 3, 9))
        admit, discharge = when("adm_time", True), when("dscg_time", True)
        v["admit_time"], v["discharge_time"] = admit, discharge
        v["admit_dept"] = text("adm_caty", False, None, MAX_LEN["adm_caty"])
        v["discharge_dept"] = text("dscg_caty", False, None, MAX_LEN["dscg_caty"])
        v["doctor_code"] = text("chfpdr_code", False, _ID, MAX_LEN["chfpdr_code"])
        v["los_days"] = integer("act_ipt_days", True, 0, 36500)
        v["discharge_way"] = integer("dscg_way", True, 1, 9, (1, 2, 3, 4, 5, 9))
        flag = integer("days_rinp_flag_31", False, 0, 1, (0, 1))
        v["readmit_planned"] = bool(flag)
        coding = text("code_ver", False, None, MAX_LEN["code_ver"]) or "yibao"
        if coding not in ("yibao", "guolin"):
            e.append(FieldError("code_ver", f"must be yibao or guolin (got {coding})"))
        v["coding"] = coding
        v["vent_hours"] = hours("vent_used_dura")
        v["icu_hours"] = hours("scs_cutd_sum_dura")
        v["correction"] = integer("correction", False, 0, 1, (0, 1)) == 1

        # Diagnoses and procedures: codes must be valid (after 国临版 translation, kept as sent).
        parts: dict[str, list[str]] = {}
        for m in MULTI:
            items = vals.get(m)
            if type(items) is str:  # a shaped row's value, not yet split
                items = items.split("|") if items else []
            elif items is None:
                items = []
            if len(items) > MAX_ITEMS:
                e.append(FieldError(m, f"{len(items)} items: at most {MAX_ITEMS}"))
                items = []
            elif (n := max(map(len, items), default=0)) > MAX_CODE_LEN:
                e.append(FieldError(m, f"an item is longer than {MAX_CODE_LEN} characters ({n:,})"))
                items = []
            parts[m] = items
        dxs = parts["diag_codes"]
        if (not dxs or not dxs[0]) and "diag_codes" not in {err.field for err in e}:
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
        # Per-item lists are matched to their codes only when the codes could be read.
        unread = {err.field for err in e} & {"diag_codes", "oprn_oprt_codes"}
        if "diag_codes" in unread:
            conds = []
        if "oprn_oprt_codes" in unread:
            parts["oprn_oprt_dates"] = parts["oprn_oprt_lvs"] = []
        if conds and len(conds) != len(dxs):
            e.append(FieldError("adm_cond_types", f"{len(conds)} values for {len(dxs)} diagnoses"))
        elif conds and not _CONDS.issuperset(conds):
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
                    if d and not _DATE.match(d):
                        raise ValueError(d)
                    pdates.append(date.fromisoformat(d) if d else None)
                except ValueError:
                    e.append(FieldError("oprn_oprt_dates", f"procedure {i}: not a date {d[:40]!r}"))
        levels_ok = not levels or (len(levels) == len(procs) and _LEVELS.issuperset(levels))
        if not levels_ok:
            e.append(FieldError("oprn_oprt_lvs", "one level (1-4) per procedure"))
        v["diagnoses"], v["procedures"] = dxs, procs
        v["dx_admit_cond"] = (
            [int(c) for c in conds] if conds and len(conds) == len(dxs) and _CONDS.issuperset(conds) else None
        )
        v["proc_dates"] = pdates or None
        v["proc_levels"] = [int(x) if x else None for x in levels] if levels and levels_ok else None

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
            # Ventilation and ICU hours fit in the stay: its exact length when both times carry a
            # time of day, else the calendar days it touches.
            if discharge >= admit and (v["vent_hours"] is not None or v["icu_hours"] is not None):
                timed = all(len(get(n) or "") > 10 for n in ("adm_time", "dscg_time"))
                span = discharge - admit if timed else timedelta(days=(discharge.date() - admit.date()).days + 1)
                limit = Decimal(int(span.total_seconds())) / 3600
                for name, key in (("vent_used_dura", "vent_hours"), ("scs_cutd_sum_dura", "icu_hours")):
                    if v[key] is not None and v[key] > limit:
                        e.append(
                            FieldError(name, f"{v[key]} hours, longer than the stay ({limit.quantize(CENT)} hours)")
                        )

        # Money: the 14 charges sum to the total; fund + self-pay + own-pay = total.
        amounts = [vals.get(c) or "" for c in MONEY_COLUMNS]
        if not bad and _MONEY_ROW.fullmatch(",".join(amounts)):  # type: ignore[arg-type]
            # Every amount in the form money() reads without a regex (charges may be empty: zero),
            # and no value was refused above: the Decimals money() would give, read in one go.
            charges = [Decimal(x) if x else Decimal("0.00") for x in amounts[:14]]  # type: ignore[arg-type]
            total, fund, selfpay, ownpay = map(Decimal, amounts[14:])  # type: ignore[arg-type]
        else:
            charges = [money(c, False) for c in CHARGE_COLUMNS]
            total = money("medfee_sumamt", True)
            fund, selfpay = money("fund_pay_sumamt", True), money("psn_selfpay", True)
            ownpay = money("psn_ownpay", True)
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
