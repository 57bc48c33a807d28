"""The grouper's input and output records (plain values; no database).

Input is parsed by a strict schema (`parse_input`): unknown keys are refused, types are exact (a
whole number is a JSON integer, never a string, a float or true/false; codes are a JSON list of
strings), ranges are checked, and nothing accepted is changed (no trimming). A refusal is a
`RecordError` naming the field and the reason. Output is `GroupResult.to_dict()` (plain values for
JSON), written by hand: `dataclasses.asdict` copied every field recursively and cost more than the
grouping itself."""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from math import isfinite
from typing import Any

from dianshu import bounds

DISCHARGE_WAYS = (1, 2, 3, 4, 5, 9)
# The settlement list's own bounds (README, Input limits): codes, departments, repeated fields.
CODE_MAX_CHARS = 30
CODES_MAX_ITEMS = 50
DEPT_MAX_CHARS = 50
ID_MAX_CHARS = bounds.STRING_MAX_CHARS
CODINGS = ("yibao", "guolin")
_PLAIN_CODES = re.compile(rf"(?:[!-~]{{1,{CODE_MAX_CHARS}}} )*[!-~]{{1,{CODE_MAX_CHARS}}}").fullmatch


class RecordError(ValueError):
    """A malformed input record: names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# Not frozen: a frozen dataclass sets each of its 13 fields through object.__setattr__, which made
# building the record cost more than parsing it. Treat it as immutable; it stays hashable.
@dataclass(slots=True, unsafe_hash=True)
class GroupInput:
    id: str
    sex: int | None = None  # 1 male, 2 female
    age_years: int | None = None
    age_days: int | None = None
    birth_weight_g: int | None = None
    los_days: int | None = None
    discharge_way: int | None = None
    diagnoses: tuple[str, ...] = ()  # principal first
    procedures: tuple[str, ...] = ()  # principal first
    vent_hours: float | None = None
    icu_hours: float | None = None
    dept: str | None = None
    coding: str = "yibao"  # yibao (医保版) | guolin (国临版)


INPUT_FIELDS = frozenset(GroupInput.__dataclass_fields__)  # type: ignore[attr-defined]


def _shown(v: Any) -> str:
    """A refused value as the reason quotes it (JSON spelling for true/false/null; long text cut)."""
    if v is None or isinstance(v, bool):
        return {None: "null", True: "true", False: "false"}[v]
    if isinstance(v, list | tuple | dict):
        return f"a JSON {'object' if isinstance(v, dict) else 'list'}"
    r = repr(v)
    return r if len(r) <= 64 else r[:61] + "..."


def _whole(v: Any, name: str, lo: int, hi: int) -> int:
    if type(v) is not int:  # bool is a subclass of int: refused too
        raise RecordError(name, f"must be a whole number (got {_shown(v)})")
    if v < lo or v > hi:
        raise RecordError(name, f"must be between {lo} and {hi} (got {v})")
    return v


def _hours(v: Any, name: str) -> float:
    t = type(v)
    if t is not float and t is not int:
        raise RecordError(name, f"must be a number of hours (got {_shown(v)})")
    if not isfinite(v) or v < 0:
        raise RecordError(name, f"must be a finite number ≥ 0 (got {v!r})")
    return float(v)


def _text_reason(v: Any, max_chars: int) -> str | None:
    """Why a string value is refused (None: accepted). Fast for the common, printable case."""
    if type(v) is not str:
        return f"must be a string (got {_shown(v)})"
    if not v:
        return "must not be empty"
    if len(v) > max_chars:
        return f"must be at most {max_chars} characters (got {len(v)})"
    if v[0] == " " or v[-1] == " ":
        return f"must not start or end with a space (got {_shown(v)})"
    if not v.isprintable():
        return bounds.text_reason(v, max_chars) or f"must not contain invisible characters (got {_shown(v)})"
    return None


def _codes(v: Any, name: str, trusted: AbstractSet[str]) -> tuple[str, ...]:
    t = type(v)
    if t is not list and t is not tuple:
        raise RecordError(name, f"must be a list of codes (got {_shown(v)})")
    if len(v) > CODES_MAX_ITEMS:
        raise RecordError(name, f"must have at most {CODES_MAX_ITEMS} codes (got {len(v)})")
    # The common case at C speed: every code one of the code book's (`trusted`, each already known
    # to pass), else one pattern over the joined codes (join refuses a non-string). Anything else is
    # looked at code by code, which names the refused one (or accepts it: a space or a non-ASCII
    # letter inside a code).
    try:
        if trusted.issuperset(v):
            return tuple(v)
        joined: str | None = " ".join(v)
    except TypeError:  # an unhashable item, or not a string
        joined = None
    # The joined check holds for each item only when no item brought a space of its own.
    if joined is None or joined.count(" ") != len(v) - 1 or _PLAIN_CODES(joined) is None:
        for i, c in enumerate(v, start=1):
            if (why := _text_reason(c, CODE_MAX_CHARS)) is not None:
                raise RecordError(f"{name}[{i}]", why)
    return tuple(v)


def trusted_codes(*systems: Iterable[str]) -> frozenset[str]:
    """The codes of code systems that pass the code rule, for `parse_input(..., trusted=)`: a code
    among them is accepted without looking at its characters (the same answer, faster)."""
    return frozenset(c for codes in systems for c in codes if type(c) is str and _PLAIN_CODES(c))


def parse_input(d: Any, trusted: AbstractSet[str] = frozenset()) -> GroupInput:
    """Validate one input object (a `dianshu group` JSON line, or an API input) by the strict schema.
    Absent and null are the same (no value); `sex` 0 and 9 (GB/T 2261.1 unknown, unspecified) too.
    `trusted`: codes known to pass (`trusted_codes`), checked by one set lookup each.

    Each check is one expression for the accepted value; the reason is worked out only on refusal."""
    if type(d) is not dict:
        raise RecordError("record", f"must be a JSON object (got {_shown(d)})")
    if not d.keys() <= INPUT_FIELDS:
        unknown = next(k for k in d if k not in INPUT_FIELDS)
        raise RecordError(str(unknown), f"unknown field (the fields are {', '.join(GroupInput.__slots__)})")
    get = d.get
    rid = get("id")
    if (
        type(rid) is not str
        or not rid
        or len(rid) > ID_MAX_CHARS
        or rid[0] == " "
        or rid[-1] == " "
        or not rid.isprintable()
    ):
        raise RecordError("id", "required" if rid is None else _text_reason(rid, ID_MAX_CHARS) or "must be an id")
    sex = get("sex")
    if sex is not None and (type(sex) is not int or (sex != 1 and sex != 2)):
        if type(sex) is not int:
            raise RecordError("sex", f"must be a whole number (got {_shown(sex)})")
        if sex != 0 and sex != 9:
            raise RecordError("sex", f"must be 1 (male) or 2 (female) (got {sex})")
        sex = None
    way = get("discharge_way")
    if way is not None and (type(way) is not int or way not in DISCHARGE_WAYS):
        raise RecordError("discharge_way", f"must be one of {', '.join(map(str, DISCHARGE_WAYS))} (got {_shown(way)})")
    coding = get("coding")
    if coding is None:
        coding = "yibao"
    elif coding != "yibao" and coding != "guolin":
        raise RecordError("coding", f"must be yibao or guolin (got {_shown(coding)})")
    dept = get("dept")
    if dept is not None:
        if dept == "":
            dept = None
        elif (why := _text_reason(dept, DEPT_MAX_CHARS)) is not None:
            raise RecordError("dept", why)
    age_years, age_days, weight, los = get("age_years"), get("age_days"), get("birth_weight_g"), get("los_days")
    if age_years is not None and (type(age_years) is not int or not 0 <= age_years <= 150):
        _whole(age_years, "age_years", 0, 150)
    if age_days is not None and (type(age_days) is not int or not 0 <= age_days <= 366):
        _whole(age_days, "age_days", 0, 366)
    if weight is not None and (type(weight) is not int or not 100 <= weight <= 10000):
        _whole(weight, "birth_weight_g", 100, 10000)
    if los is not None and (type(los) is not int or not 0 <= los <= 36500):
        _whole(los, "los_days", 0, 36500)
    dxs, pxs = get("diagnoses"), get("procedures")
    vent, icu = get("vent_hours"), get("icu_hours")
    return GroupInput(
        rid,
        sex,
        age_years,
        age_days,
        weight,
        los,
        way,
        () if dxs is None else _codes(dxs, "diagnoses", trusted),
        () if pxs is None else _codes(pxs, "procedures", trusted),
        None if vent is None else _hours(vent, "vent_hours"),
        None if icu is None else _hours(icu, "icu_hours"),
        dept,
        coding,
    )


@dataclass(slots=True)
class Message:
    level: str  # error (the record cannot be grouped as sent) | warning | info
    field: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "field": self.field, "text": self.text}

    as_dict = to_dict


@dataclass(slots=True)
class GroupResult:
    id: str
    mdc: str | None
    adrg: str | None
    drg: str  # a DRG code, "0000" (ungroupable) or "<letter>QY" (ambiguous)
    status: str  # grouped | ungroupable | ambiguous
    drg_name: str | None = None
    diagnoses: tuple[str, ...] = ()  # the 医保版 codes grouped on
    procedures: tuple[str, ...] = ()
    mcc: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    messages: list[Message] = field(default_factory=list)
    trace: list[str] | None = None

    def to_dict(self, with_trace: bool = False) -> dict[str, Any]:
        """Every field as plain JSON values (lists for tuples); `trace` only when asked for."""
        d = {
            "id": self.id,
            "mdc": self.mdc,
            "adrg": self.adrg,
            "drg": self.drg,
            "status": self.status,
            "drg_name": self.drg_name,
            "diagnoses": list(self.diagnoses),
            "procedures": list(self.procedures),
            "mcc": list(self.mcc),
            "cc": list(self.cc),
            "messages": [{"level": m.level, "field": m.field, "text": m.text} for m in self.messages],
        }
        if with_trace:
            d["trace"] = self.trace
        return d

    as_dict = to_dict
