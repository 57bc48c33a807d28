"""The draft case a hospital's system sends before discharge (事前提示) or during the stay (诊间审核):
the settlement-list fields a HIS has by then, read strictly (unknown keys refused, exact JSON types,
codes shape-checked, ranges checked). A refusal is a `DraftRefused` naming every field and why.

Keys are the settlement list's meanings in snake_case (the GraphQL input's camelCase names map
onto these one to one):

    patient_id        the patient (pseudonymised psn_no), required: the readmission check reads it
    list_id           the settlement list id, when the HIS has one (excluded from the readmission look-up)
    sex               1 male, 2 female (0 and 9, unknown, are read as no value)
    age_years         whole years at admission, required; age_days under one year
    birth_weight_g    newborn birth weight; admit_weight_g newborn admission weight
    admission_time    "YYYY-MM-DD HH:MM[:SS]" (or with a T), required
    discharge_time    the (expected) discharge time; days_so_far the days in hospital so far:
                      at least one of them. LOS for grouping: the expected one when given, else so far
    admit_dept, discharge_dept   department names ("ICU" for intensive care)
    discharge_way     1-5, 9 if known (离院方式)
    readmit_planned   a planned readmission (31-day flag): the readmission warning says it is exempt
    coding            yibao (医保版, default) or guolin (国临版)
    diagnoses         principal first, 1 to 50 codes; procedures principal first, 0 to 50
    vent_hours, icu_hours   hours, decimals as strings or integers
    charges           the 14 national charge categories so far (床位费 … 其他费), money strings
    total_cost        the cost so far; with charges it must equal their sum; one of the two is required
    fund_type         employee (职工) or resident (居民)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from dianshu import bounds
from dianshu.errors import Refused
from dianshu.grouping.records import CODE_MAX_CHARS, CODES_MAX_ITEMS, DEPT_MAX_CHARS
from dianshu.strict import Dec, Invalid, Money, StrictBool, StrictModel, WholeNumber, parse

CHARGE_CATEGORIES = 14
MAX_HOURS = Decimal(100_000)  # over eleven years of ventilation: far beyond any stay
MAX_DAYS = 3660  # ten years in hospital (policy.MAX_LOS_DAYS)
# A code as the settlement list carries it: printable ASCII, no spaces, at most 30 characters.
_CODE = re.compile(rf"[!-~]{{1,{CODE_MAX_CHARS}}}")
_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)")
_ID = re.compile(r"[!-~](?:[ -~]{0,62}[!-~])?")  # printable ASCII, no space at either end, ≤ 64


class DraftRefused(Refused):
    """A refused draft (record "draft"): `issues` holds every (field, reason)."""


def _code(value: Any) -> str:
    if type(value) is not str:
        raise ValueError(f"must be a code as a string (got {type(value).__name__})")
    if not _CODE.fullmatch(value):
        raise ValueError(
            f"{value[:40]!r} is not shaped like a code "
            f"(printable ASCII, no spaces, at most {CODE_MAX_CHARS} characters)"
        )
    return value


def _time(value: Any) -> datetime:
    if type(value) is not str:
        raise ValueError("must be a time as a string, YYYY-MM-DD HH:MM[:SS]")
    m = _TIME.fullmatch(value)
    if m is None:
        raise ValueError(f"{value[:40]!r} is not a time: YYYY-MM-DD HH:MM[:SS]")
    try:
        t = datetime.fromisoformat(f"{m.group(1)} {m.group(2)}")
    except ValueError:
        raise ValueError(f"{value!r} is not a real date and time") from None
    if (why := bounds.year_reason(t.year)) is not None:
        raise ValueError(why)
    return t


def _text(max_chars: int) -> Any:
    def check(value: Any) -> str:
        if type(value) is not str:
            raise ValueError(f"must be a string (got {type(value).__name__})")
        if (why := bounds.text_reason(value, max_chars)) is not None:
            raise ValueError(why)
        if not value or value != value.strip():
            raise ValueError("must not be empty or start or end with a space")
        return value

    return BeforeValidator(check)


def _patient(value: Any) -> str:
    if type(value) is not str or not _ID.fullmatch(value):
        raise ValueError("must be 1 to 64 printable characters without a space at either end")
    return value


def _sex(value: Any) -> int | None:
    if type(value) is not int:
        raise ValueError("must be a whole number: 1 (male) or 2 (female)")
    if value in (0, 9):
        return None  # GB/T 2261.1 unknown / unspecified: no value
    if value not in (1, 2):
        raise ValueError(f"must be 1 (male) or 2 (female) (got {value})")
    return value


Code = Annotated[str, BeforeValidator(_code)]
Time = Annotated[datetime, BeforeValidator(_time)]
Whole = Annotated[int, WholeNumber]


class Draft(StrictModel):
    patient_id: Annotated[str, BeforeValidator(_patient)]
    list_id: Annotated[str | None, _text(50)] = None
    sex: Annotated[int | None, BeforeValidator(_sex)] = None
    age_years: Annotated[Whole, Field(ge=0, le=150)]
    age_days: Annotated[Whole | None, Field(ge=0, le=365)] = None
    birth_weight_g: Annotated[Whole | None, Field(ge=100, le=10000)] = None
    admit_weight_g: Annotated[Whole | None, Field(ge=100, le=20000)] = None
    admission_time: Time
    discharge_time: Time | None = None
    days_so_far: Annotated[Whole | None, Field(ge=0, le=MAX_DAYS)] = None
    admit_dept: Annotated[str | None, _text(DEPT_MAX_CHARS)] = None
    discharge_dept: Annotated[str | None, _text(DEPT_MAX_CHARS)] = None
    discharge_way: Annotated[Literal[1, 2, 3, 4, 5, 9] | None, WholeNumber] = None
    readmit_planned: StrictBool = False
    coding: Literal["yibao", "guolin"] = "yibao"
    diagnoses: Annotated[tuple[Code, ...], Field(min_length=1, max_length=CODES_MAX_ITEMS)]
    procedures: Annotated[tuple[Code, ...], Field(max_length=CODES_MAX_ITEMS)] = ()
    vent_hours: Annotated[Dec | None, Field(ge=0, le=MAX_HOURS)] = None
    icu_hours: Annotated[Dec | None, Field(ge=0, le=MAX_HOURS)] = None
    charges: Annotated[list[Annotated[Money, Field(ge=0)]] | None, Field(min_length=14, max_length=14)] = None
    total_cost: Annotated[Money | None, Field(ge=0)] = None
    fund_type: Literal["employee", "resident"]


# The keys a draft has, for the API's own mapping (GraphQL camelCase -> these).
DRAFT_FIELDS: tuple[str, ...] = tuple(Draft.model_fields)


@dataclass(frozen=True)
class DraftCase:
    """A draft read and checked: the values the check works with."""

    draft: Draft
    los_days: int  # for grouping and points: expected when known, else so far
    days_so_far: int | None
    expected_los: int | None
    cost_so_far: Decimal
    discharge_date: date  # expected discharge, else the admission date + days so far (the year's day)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.draft, name)


def _los(admitted: datetime, discharged: datetime) -> int:
    """The settlement list's LOS: discharge date − admission date, 1 when the same day."""
    return max(1, (discharged.date() - admitted.date()).days)


def read_draft(raw: Any) -> DraftCase:
    """The draft read strictly, then the rules between fields; every refusal names its field."""
    try:
        d: Draft = parse(Draft, raw, whole="draft")
    except Invalid as e:
        first, *more = e.issues
        raise DraftRefused("draft", first.path, first.reason, more=[(i.path, i.reason) for i in more]) from None
    issues: list[tuple[str, str]] = []
    if d.discharge_time is None and d.days_so_far is None:
        issues.append(("discharge_time", "give the (expected) discharge time or days_so_far"))
    expected = None
    if d.discharge_time is not None:
        if d.discharge_time < d.admission_time:
            issues.append(("discharge_time", f"{d.discharge_time} is before the admission {d.admission_time}"))
        else:
            expected = _los(d.admission_time, d.discharge_time)
            if d.days_so_far is not None and d.days_so_far > expected:
                issues.append(("days_so_far", f"{d.days_so_far} days so far, but the expected stay is {expected}"))
    if d.age_years > 0 and d.age_days is not None:
        issues.append(("age_days", f"age in days is for a patient under one year (age_years is {d.age_years})"))
    if d.charges is None and d.total_cost is None:
        issues.append(("total_cost", "give the cost so far: total_cost or the 14 charges"))
    cost = d.total_cost
    if d.charges is not None:
        summed = sum(d.charges, Decimal("0.00"))
        if cost is not None and cost != summed:
            issues.append(("total_cost", f"{cost} but the 14 charges sum to {summed}"))
        cost = summed
    if issues:
        raise DraftRefused("draft", *issues[0], more=issues[1:])
    assert cost is not None
    so_far = d.days_so_far
    los = expected if expected is not None else max(1, so_far or 0)
    if d.discharge_time is not None:
        day = d.discharge_time.date()
    else:
        day = date.fromordinal(d.admission_time.date().toordinal() + (so_far or 0))
    return DraftCase(d, los, so_far, expected, cost, day)
