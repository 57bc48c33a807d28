"""Every argument of every root field is checked here, once, before its resolver runs: years,
months, hospital levels, decimals and money, and every string (control characters, length),
whether it came as a literal or a variable, inside an input object or a list.
The rules are keyed by argument name (the ranges live in dianshu.bounds). A refusal is the field's
typed ValidationError when its result union has one, else an expected error that names the field."""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from strawberry.extensions import SchemaExtension

from dianshu import bounds
from dianshu_graphql.errors import BadInput, FieldError, ValidationError
from graphql import GraphQLNonNull, GraphQLResolveInfo, GraphQLUnionType

# Arguments (at any depth of an input) whose value is free text, and those that are money.
FREE_TEXT = frozenset({"reason", "request", "comment", "name", "label", "specialty"})
MONEY = frozenset({"amount", "lastYearSpending", "controlTotal"})


def _int_or_text_month(value: Any) -> str | None:
    return bounds.year_month_reason(value) if isinstance(value, str) else bounds.month_reason(value)


# name -> check of a scalar value (lists are checked item by item).
RULES: dict[str, Callable[[Any], str | None]] = {
    "year": bounds.year_reason,
    "years": bounds.year_reason,
    "month": _int_or_text_month,
    "fromMonth": bounds.year_month_reason,
    "toMonth": bounds.year_month_reason,
    # A hospital's level is an Int (groupingComparison's `level` is an enum, not checked here).
    "level": lambda v: bounds.level_reason(v) if isinstance(v, int) else None,
}


def _walk(value: Any, path: str, name: str, in_json: bool) -> Iterator[tuple[str, str]]:
    """(path, reason) of every refused value under `value`."""
    if value is None:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            if (reason := bounds.text_reason(key, bounds.STRING_MAX_CHARS)) is not None:
                yield f"{path}.<key>", reason
                continue
            # Inside a JSON argument the keys are data, not argument names: no name rules apply.
            yield from _walk(v, f"{path}.{key}", name if in_json else key, in_json)
        return
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]", name, in_json)
        return
    if isinstance(value, str):
        limit = bounds.TEXT_MAX_CHARS if in_json or name in FREE_TEXT else bounds.STRING_MAX_CHARS
        if (reason := bounds.text_reason(value, limit)) is not None:
            yield path, reason
        if in_json:
            return
    elif isinstance(value, Decimal):
        reason = bounds.money_reason(value) if name in MONEY else bounds.decimal_reason(value)
        if reason is not None:
            yield path, reason
        return
    elif isinstance(value, datetime.date):  # and datetimes: a plausible year, as for year arguments
        if (reason := bounds.year_reason(value.year)) is not None:
            yield path, reason
        return
    elif isinstance(value, float) and not math.isfinite(value):
        yield path, "must be a finite number"
        return
    if not in_json and (rule := RULES.get(name)) is not None and (reason := rule(value)) is not None:
        yield path, reason


def refusals(arguments: dict[str, Any], json_args: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """Every (argument path, reason) refused among a field's arguments (GraphQL names)."""
    out: list[tuple[str, str]] = []
    for name, value in arguments.items():
        out.extend(_walk(value, name, name, name in json_args))
    return out


def _has_validation_error(info: GraphQLResolveInfo) -> bool:
    t = info.return_type
    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLUnionType) and any(m.name == "ValidationError" for m in t.types)


class ArgumentGuard(SchemaExtension):
    def resolve(self, _next: Callable, root: Any, info: GraphQLResolveInfo, *args: Any, **kwargs: Any) -> Any:
        # Only root fields take client arguments today; nested resolvers are not re-checked.
        if info.path.prev is None and kwargs:
            refused = refusals(kwargs)  # no argument is JSON (test_api_contract.py: no JSON anywhere)
            if refused:
                message = "; ".join(f"{path}: {reason}" for path, reason in refused)
                if _has_validation_error(info):
                    return ValidationError(
                        message=message,
                        errors=[FieldError(record=info.field_name, field=p, reason=r) for p, r in refused],
                    )
                raise BadInput(refused[0][0], message)
        return _next(root, info, *args, **kwargs)
