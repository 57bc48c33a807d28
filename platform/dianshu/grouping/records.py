"""The grouper's input and output records (plain values; no database)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DISCHARGE_WAYS = (1, 2, 3, 4, 5, 9)


class RecordError(ValueError):
    """A malformed input record: names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
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


def _int(d: dict[str, Any], name: str, lo: int = 0, hi: int | None = None) -> int | None:
    v = d.get(name)
    if v is None or v == "":
        return None
    if isinstance(v, bool) or not isinstance(v, int | str | float):
        raise RecordError(name, f"must be a whole number (got {v!r})")
    try:
        n = int(v)
        if isinstance(v, float) and v != n:
            raise ValueError
    except (TypeError, ValueError):
        raise RecordError(name, f"must be a whole number (got {v!r})") from None
    if n < lo or (hi is not None and n > hi):
        raise RecordError(
            name, f"must be between {lo} and {hi} (got {n})" if hi is not None else f"must be ≥ {lo} (got {n})"
        )
    return n


def _hours(d: dict[str, Any], name: str) -> float | None:
    v = d.get(name)
    if v is None or v == "":
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise RecordError(name, f"must be a number of hours (got {v!r})") from None
    if x < 0 or x != x:
        raise RecordError(name, f"must be ≥ 0 (got {v!r})")
    return x


def _codes(d: dict[str, Any], name: str) -> tuple[str, ...]:
    v = d.get(name)
    if v is None:
        return ()
    if isinstance(v, str):
        v = [c for c in v.replace(";", ",").split(",")]
    if not isinstance(v, list | tuple):
        raise RecordError(name, f"must be a list of codes (got {type(v).__name__})")
    out = []
    for i, c in enumerate(v, start=1):
        if not isinstance(c, str) or not c.strip():
            raise RecordError(f"{name}[{i}]", f"must be a non-empty code (got {c!r})")
        out.append(c.strip())
    return tuple(out)


def parse_input(d: Any) -> GroupInput:
    """Validate one input object (the `dianshu group` JSON line, or an API input)."""
    if not isinstance(d, dict):
        raise RecordError("record", f"must be a JSON object (got {type(d).__name__})")
    rid = d.get("id")
    if rid is None or str(rid).strip() == "":
        raise RecordError("id", "required")
    sex = _int(d, "sex", 0, 9)
    if sex not in (None, 1, 2):
        sex = None if sex in (0, 9) else sex  # 0 unknown / 9 unspecified (GB/T 2261.1)
        if sex is not None:
            raise RecordError("sex", f"must be 1 (male) or 2 (female) (got {sex})")
    way = _int(d, "discharge_way", 1, 9)
    if way is not None and way not in DISCHARGE_WAYS:
        raise RecordError("discharge_way", f"must be one of {DISCHARGE_WAYS} (got {way})")
    coding = d.get("coding") or "yibao"
    if coding not in ("yibao", "guolin"):
        raise RecordError("coding", f"must be yibao or guolin (got {coding!r})")
    dept = d.get("dept")
    return GroupInput(
        id=str(rid),
        sex=sex,
        age_years=_int(d, "age_years", 0, 150),
        age_days=_int(d, "age_days", 0, 366),
        birth_weight_g=_int(d, "birth_weight_g", 100, 10000),
        los_days=_int(d, "los_days", 0, 36500),
        discharge_way=way,
        diagnoses=_codes(d, "diagnoses"),
        procedures=_codes(d, "procedures"),
        vent_hours=_hours(d, "vent_hours"),
        icu_hours=_hours(d, "icu_hours"),
        dept=str(dept).strip() if dept not in (None, "") else None,
        coding=coding,
    )


@dataclass(slots=True)
class Message:
    level: str  # error (the record cannot be grouped as sent) | warning | info
    field: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "field": self.field, "text": self.text}


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

    def as_dict(self, with_trace: bool = False) -> dict[str, Any]:
        d = asdict(self)
        d["messages"] = [m.as_dict() for m in self.messages]
        for k in ("diagnoses", "procedures", "mcc", "cc"):
            d[k] = list(d[k])
        if not with_trace:
            d.pop("trace")
        return d
