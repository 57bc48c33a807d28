"""The released SDL (contract/<release>.graphql) is the API's contract: deprecation, not breakage.

A field, argument, input field, type or enum value of a release may only disappear from the served
schema (or the next release) when that release marked it `@deprecated(reason: ...)` first (a type:
when every field and argument of that type was deprecated). Every other breaking change graphql-core
finds (a type changed, a required argument added, ...) and a changed argument default are refused
outright. `dianshu schema` runs the same check before it writes the SDL or a release.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_named_type,
)

# graphql-core's wording of the removals (3.3's find_schema_changes.py, and 3.2's). A removal worded
# otherwise is not recognised, so not allowed: the check fails closed.
_FIELD = re.compile(r"^(?:Field )?(?P<type>\w+)\.(?P<field>\w+) was removed\.$")
_ARG = re.compile(
    r"^(?:Argument (?P<type>\w+)\.(?P<field>\w+)\((?P<arg>\w+):\)"
    r"|(?P<type2>\w+)\.(?P<field2>\w+) arg (?P<arg2>\w+)) was removed\.$"
)
_VALUE = re.compile(
    r"^(?:Enum value (?P<type>\w+)\.(?P<value>\w+) was removed"
    r"|(?P<value2>\w+) was removed from enum type (?P<type2>\w+))\.$"
)
_TYPE = re.compile(r"^(?P<type>\w+) was removed\.$")
# Dangerous changes that change what an existing call does: refused like breaking ones.
REFUSED_DANGEROUS = frozenset({DangerousChangeType.ARG_DEFAULT_VALUE_CHANGE})


@dataclass(frozen=True)
class Change:
    kind: str
    description: str
    allowed: bool


def _deprecated_field(schema: GraphQLSchema, type_name: str, field: str) -> bool:
    t = schema.type_map.get(type_name)
    if isinstance(t, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        f = t.fields.get(field)
        return f is not None and bool(f.deprecation_reason)
    return False


def _deprecated_arg(schema: GraphQLSchema, type_name: str, field: str, arg: str) -> bool:
    t = schema.type_map.get(type_name)
    if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
        f = t.fields.get(field)
        a = f.args.get(arg) if f is not None else None
        return a is not None and bool(a.deprecation_reason)
    return False


def _deprecated_value(schema: GraphQLSchema, type_name: str, value: str) -> bool:
    t = schema.type_map.get(type_name)
    if isinstance(t, GraphQLEnumType):
        v = t.values.get(value)
        return v is not None and bool(v.deprecation_reason)
    return False


def _uses(schema: GraphQLSchema, type_name: str) -> Iterator[bool]:
    """Whether each field, argument or input field typed `type_name` is deprecated."""
    for t in schema.type_map.values():
        if t.name.startswith("__") or not isinstance(
            t, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            continue
        for f in t.fields.values():
            named: GraphQLNamedType = get_named_type(f.type)
            if named.name == type_name:
                yield bool(f.deprecation_reason)
            for a in getattr(f, "args", {}).values():
                if get_named_type(a.type).name == type_name:
                    yield bool(a.deprecation_reason) or bool(f.deprecation_reason)


def _allowed(old: GraphQLSchema, kind: str, description: str) -> bool:
    if kind == BreakingChangeType.FIELD_REMOVED.name and (m := _FIELD.match(description)):
        return _deprecated_field(old, m["type"], m["field"])
    if kind == BreakingChangeType.ARG_REMOVED.name and (m := _ARG.match(description)):
        return _deprecated_arg(old, m["type"] or m["type2"], m["field"] or m["field2"], m["arg"] or m["arg2"])
    if kind == BreakingChangeType.VALUE_REMOVED_FROM_ENUM.name and (m := _VALUE.match(description)):
        return _deprecated_value(old, m["type"] or m["type2"], m["value"] or m["value2"])
    if kind == BreakingChangeType.TYPE_REMOVED.name and description.startswith("Standard scalar "):
        return True  # no longer used by anything: nothing a client sends or reads has gone
    if kind == BreakingChangeType.TYPE_REMOVED.name and (m := _TYPE.match(description)):
        uses = list(_uses(old, m["type"]))
        return bool(uses) and all(uses)
    return False


def changes(committed_sdl: str, served_sdl: str) -> list[Change]:
    """Every breaking change (and refused dangerous one) from the committed SDL to the served one."""
    old, new = build_schema(committed_sdl), build_schema(served_sdl)
    out = [
        Change(c.type.name, c.description, _allowed(old, c.type.name, c.description))
        for c in find_breaking_changes(old, new)
    ]
    out += [
        Change(c.type.name, c.description, False)
        for c in find_dangerous_changes(old, new)
        if c.type in REFUSED_DANGEROUS
    ]
    return out


def violations(committed_sdl: str, served_sdl: str) -> list[str]:
    """What breaks the contract: the changes not allowed, as sentences."""
    return [f"{c.kind}: {c.description}" for c in changes(committed_sdl, served_sdl) if not c.allowed]
