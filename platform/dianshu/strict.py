"""Strict reading of client JSON: one base model (unknown keys refused), exact types (JSON booleans,
whole numbers, decimals as strings or integers, never floats) and one refusal that names each JSON
path and its reason. The scenario and the policy parameters both read through here."""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictBool, StrictInt, StrictStr, WithJsonSchema
from pydantic import ValidationError as PydanticError

from dianshu.bounds import DECIMAL_MAX_ABS, DECIMAL_MAX_PLACES, MONEY_PLACES

__all__ = [
    "Dec",
    "Invalid",
    "Issue",
    "Money",
    "StrictBool",
    "StrictInt",
    "StrictModel",
    "StrictStr",
    "WholeNumber",
    "issues_of",
    "parse",
    "path_of",
]

# Plain decimal notation only: no exponent, no spaces, below bounds.DECIMAL_MAX_ABS (10^12: at most 12
# digits before the point) and a few places after it, so that every product and quotient the engine
# forms stays inside its 28-digit precision (no digit bombs, no decimal.InvalidOperation).
_INT_DIGITS = len(str(int(DECIMAL_MAX_ABS))) - 1


def _pattern(places: int) -> re.Pattern[str]:
    return re.compile(rf"-?\d{{1,{_INT_DIGITS}}}(\.\d{{1,{places}}})?")


_DECIMAL = _pattern(DECIMAL_MAX_PLACES)


def _strict_decimal_of(places: int, what: str, example: str) -> Any:
    pattern = _pattern(places)

    def check(value: Any) -> Decimal:
        # Called for every amount of a scenario: the common cases first and cheap.
        kind = type(value)
        if kind is str:
            if pattern.fullmatch(value):
                return Decimal(value)
            raise ValueError(_why(value, places, what, example))
        if kind is int:
            if abs(value) >= DECIMAL_MAX_ABS:
                raise ValueError(f"must be below {DECIMAL_MAX_ABS:,} in size (got {_show(value)})")
            return Decimal(value)
        if kind is float:
            raise ValueError(f"decimals travel as strings, not float ({_show(value)})")
        raise ValueError(f"must be a decimal as a string or an integer (got {_kind(value)})")

    return Annotated[
        Decimal,
        BeforeValidator(check),
        WithJsonSchema(
            {"anyOf": [{"type": "string", "pattern": "^" + pattern.pattern + "$"}, {"type": "integer"}]},
            mode="validation",
        ),
    ]


def _why(value: str, places: int, what: str, example: str) -> str:
    m = re.fullmatch(r"-?(\d+)(?:\.(\d+))?", value)
    if m is None:
        return f'{_show(value)} is not a plain decimal (digits, at most {places} after the point: "{example}")'
    if len(m.group(1)) > _INT_DIGITS:
        return f"must be below {DECIMAL_MAX_ABS:,} in size (got {_show(value)})"
    return f"{what} has at most {places} decimal places (got {_show(value)})"


# A decimal (ratio, coefficient, points, score): at most 6 places. Money: at most 2 places (fen).
Dec = _strict_decimal_of(DECIMAL_MAX_PLACES, "a decimal", "0.123456")
Money = _strict_decimal_of(MONEY_PLACES, "money", "1234.56")


def _whole_number(value: Any) -> Any:
    # Literal[1, 2] alone would take True and 1.0 as 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"must be a whole number (got {_show(value)})")
    return value


WholeNumber = BeforeValidator(_whole_number)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Issue:
    path: str  # a JSON path: cases[3].los_days
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class Invalid(ValueError):
    """Refused client input: every issue names its JSON path and why."""

    def __init__(self, issues: list[Issue]) -> None:
        more = f" (and {len(issues) - 20} more)" if len(issues) > 20 else ""
        super().__init__("; ".join(map(str, issues[:20])) + more)
        self.issues = issues

    @classmethod
    def one(cls, path: str, reason: str) -> Invalid:
        return cls([Issue(path, reason)])

    def under(self, prefix: str) -> Invalid:
        """The same issues with their paths under `prefix` (policy.reserve_ratio -> parameters.reserve_ratio)."""
        return type(self)([Issue(_join(prefix, i.path), i.reason) for i in self.issues])


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix + path if path.startswith("[") else f"{prefix}.{path}" if path else prefix


def path_of(loc: tuple[int | str, ...], root: str = "") -> str:
    out = ""
    for part in loc:
        out = f"{out}[{part}]" if isinstance(part, int) else f"{out}.{part}" if out else str(part)
    return out or root


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _show(value: Any) -> str:
    """A refused value as the client wrote it in JSON ("false", true, -1), shortened."""
    if isinstance(value, dict | list):
        return _kind(value)
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that the value at `loc` is read as (for naming the keys it allows)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (list, tuple, dict):
            args = [a for a in typing.get_args(current) if a is not Ellipsis]
            current = args[-1] if args else None
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _unknown_key(root: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    key = str(loc[-1])
    parent = _model_at(root, loc[:-1])
    allowed = list(parent.model_fields) if parent is not None else []
    if len(loc) > 1 and key in root.model_fields:
        return f"unknown key here: {key} belongs at the top level"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"unknown key (did you mean {close[0]}?)"
    return f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"


def _reason(root: type[BaseModel], err: Any) -> str:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown_key(root, tuple(err["loc"]))
    if kind == "missing":
        return "required"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a JSON object (got {_show(value)})"
    if kind in ("list_type", "tuple_type"):
        return f"must be a JSON array (got {_show(value)})"
    if kind == "bool_type":
        return f"must be a JSON boolean, true or false (got {_show(value)})"
    if kind == "bool_parsing":
        return f"must be true or false (got {_show(value)})"
    if kind == "float_parsing":
        return f"must be a number (got {_show(value)})"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"must be a whole number (got {_show(value)})"
    if kind == "string_type":
        return f"must be a string (got {_show(value)})"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected', '?').replace(chr(39), '')} (got {_show(value)})"
    bounds = {
        "greater_than_equal": ("≥", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("≤", "le"),
        "less_than": ("<", "lt"),
    }
    if kind in bounds:
        sign, key = bounds[kind]
        return f"must be {sign} {ctx.get(key)} (got {_show(value)})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} items"
    if kind == "value_error":
        return str(ctx.get("error") or err["msg"]).removeprefix("Value error, ")
    return str(err["msg"])


def reasons_of(model: type[BaseModel], e: PydanticError) -> list[tuple[str, str]]:
    """Each error of `e` as (its location as written, e.g. an environment variable, and why)."""
    return [(".".join(str(p) for p in err["loc"]), _reason(model, err)) for err in e.errors(include_url=False)]


def issues_of(model: type[BaseModel], e: PydanticError, prefix: str, whole: str) -> list[Issue]:
    return [
        Issue(_join(prefix, path_of(tuple(err["loc"]), "")) or whole, _reason(model, err))
        for err in e.errors(include_url=False)
    ]


def parse(model: type[BaseModel], value: Any, *, prefix: str = "", whole: str = "scenario") -> Any:
    """`value` read strictly as `model`, or Invalid naming every JSON path that is wrong (under
    `prefix`; `whole` names the value itself when it is wrong as a whole)."""
    try:
        return model.model_validate(value)
    except PydanticError as e:
        raise Invalid(issues_of(model, e, prefix, whole)) from None
