"""Relay's object identification: the `Node` interface, global ids and `node(id:)`.

A global id is base64 of "TypeName:key" (the key's parts joined by ':'), opaque to clients: they
read it from `id` and pass it back. Each domain module registers its node types here with the
function that fetches one object by key, under the same visibility as the type's own query (the
caller's scope and row-level security, and the same `Allow` when the query declares one), so
`node(id:)` answers null for an object the caller may not see, exactly as the query would.

    node.register(Job, node.uuid_part, fetch=fetch_job)

An id that is not a global id of this API (malformed, or of a type not registered) is refused as
`InvalidId` (extensions.code BAD_USER_INPUT, field `id`), never an unexpected error.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

from dianshu import bounds
from dianshu.tenancy.codes import plain_code
from dianshu_graphql.errors import InvalidId
from dianshu_graphql.permissions import Allow

MAX_ID_CHARS = 400
MAX_NODES = 100


@strawberry.interface(description="An object with a global id: fetch it again with node(id:).")
class Node:
    id: strawberry.ID = strawberry.field(description="The object's global id (opaque; pass it back as it is).")


# ---- key parts: each converts the text of one part of a key, raising ValueError when it is not one ----


def uuid_part(text: str) -> uuid.UUID:
    return uuid.UUID(text)


def code_part(text: str) -> str:
    """A tenant or hospital code (letters and digits)."""
    if not plain_code(text):
        raise ValueError("not a code")
    return text


def text_part(text: str) -> str:
    """A code of reference data (a DRG, ...): printable, short."""
    if not text or bounds.text_reason(text, 40) is not None:
        raise ValueError("not a code")
    return text


def int_part(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError("not a number")
    n = int(text)
    if n >= 1 << 63:
        raise ValueError("out of range")
    return n


@dataclass(frozen=True)
class NodeType:
    cls: type
    name: str
    key: tuple[Callable[[str], Any], ...]
    fetch: Callable[..., Awaitable[Any]]
    allow: Allow | None


_TYPES: dict[str, NodeType] = {}


def _name(cls: type) -> str:
    return cls.__strawberry_definition__.name  # type: ignore[attr-defined]


def register(
    cls: type, *key: Callable[[str], Any], fetch: Callable[..., Awaitable[Any]], allow: Allow | None = None
) -> None:
    """`cls` (a strawberry type implementing Node) is fetched by `fetch(info, *key parts)`, which
    returns the object or None; `allow` is the type's own query's declaration, if it has one."""
    name = _name(cls)
    if name in _TYPES and _TYPES[name].cls is not cls:
        raise RuntimeError(f"node type {name} registered twice")
    if not key:
        raise ValueError("a node type needs a key")
    _TYPES[name] = NodeType(cls, name, key, fetch, allow)


def node_types() -> list[type]:
    return [t.cls for t in _TYPES.values()]


def global_id(type_name: str, *key: Any) -> strawberry.ID:
    text = f"{type_name}:{':'.join(str(k) for k in key)}"
    return strawberry.ID(base64.b64encode(text.encode()).decode("ascii"))


def decode(value: Any, *, field: str = "id", types: Iterable[str] | None = None) -> tuple[NodeType, list[Any]]:
    """The node type and key of a global id; `types`: the types the argument takes."""
    shown = str(value)[:100]
    try:
        if not isinstance(value, str) or len(value) > MAX_ID_CHARS:
            raise ValueError("not an id")
        text = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
        name, sep, rest = text.partition(":")
        if not sep or name not in _TYPES:
            raise ValueError("unknown type")
        nt = _TYPES[name]
        parts = rest.split(":", len(nt.key) - 1)
        if len(parts) != len(nt.key):
            raise ValueError("wrong key")
        key = [convert(part) for convert, part in zip(nt.key, parts, strict=True)]
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidId(f"{field}: {shown!r} is not an id from this API", field) from None
    wanted = tuple(types) if types is not None else None
    if wanted is not None and nt.name not in wanted:
        raise InvalidId(f"{field}: {shown!r} is the id of a {nt.name}, not of a {' or '.join(wanted)}", field)
    return nt, key


def key_of(
    value: Any, type_name: str, *, field: str, raw: Callable[[str], Any] | None = None, what: str | None = None
) -> list[Any]:
    """The key an id argument names: a global id of `type_name`, or (when `raw` is given) the
    object's databaseId as the argument took before global ids. `what` words the refusal of an id
    that is neither ("a job id")."""
    if raw is not None:
        try:
            return [raw(str(value))]
        except ValueError:
            pass
    try:
        return decode(value, field=field, types=(type_name,))[1]
    except InvalidId as e:
        if what is None or "is the id of a" in str(e):
            raise
        raise InvalidId(f"{field}: {str(value)[:100]!r} is not {what}", field) from None


async def resolve(info: Info, value: Any, *, field: str = "id") -> Any:
    nt, key = decode(value, field=field)
    if nt.allow is not None and nt.allow.refusal(info.context.scope, None) is not None:
        return None  # the type's own query would refuse this caller: nothing to see
    return await nt.fetch(info, *key)


async def resolve_many(info: Info, values: Sequence[Any]) -> list[Any]:
    if len(values) > MAX_NODES:
        raise InvalidId(f"ids: at most {MAX_NODES} at once (got {len(values)})", "ids")
    return [await resolve(info, v, field=f"ids[{i}]") for i, v in enumerate(values)]


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any object by its global id; null when it does not exist or is not yours to see. "
        "An id that is not one of this API's is refused (BAD_USER_INPUT, field id)."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve(info, id)

    @strawberry.field(
        description=f"Objects by global id, in the order asked (at most {MAX_NODES}); null for each not yours."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return await resolve_many(info, ids)


# The Int case ids of CaseGroupingResult, CasePoint and CaseAnomaly, deprecated for caseNodeId.
CASE_ID_DEPRECATED = "the case's databaseId: use caseNodeId, the Case's global id as everywhere else (Case.id)"
