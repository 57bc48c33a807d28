"""Reading the audit log for the bureau: filters, keyset order (newest first), and an entry's
details as typed key/value pairs (no JSON blobs reach a client).

Filters (all optional, combined with AND): tenant; a half-open time range [since, until); the
actor; the action, exact, or a family when it ends in '.' ("cases." is every cases.* action);
the entity, from the entry's target "type:id" (type alone, or type and id); the hospital.
Row-level security decides which entries the caller sees at all."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, tuple_

from dianshu.audit.models import AuditEntry
from dianshu.errors import Refused

ACTION = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.?$", re.ASCII)
ENTITY_TYPE = re.compile(r"^[a-z][a-z0-9_]*$", re.ASCII)
MAX_DETAILS = 200  # pairs per entry; a larger payload says so in its last pair


@dataclass(frozen=True)
class AuditFilter:
    tenant: str | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    hospital: str | None = None

    def check(self) -> None:
        """Refused (naming the argument) when a filter could not be meant: a time without its zone,
        a reversed range, an action or entity type of another shape, an entity id without its type."""
        for name, t in (("since", self.since), ("until", self.until)):
            if t is not None and t.tzinfo is None:
                raise Refused("auditLog", name, f"{t.isoformat()} has no time zone (e.g. 2025-01-01T00:00:00+08:00)")
        if self.since and self.until and self.since >= self.until:
            raise Refused("auditLog", "until", f"{self.until.isoformat()} is not after since {self.since.isoformat()}")
        if self.action is not None and (len(self.action) > 80 or not ACTION.match(self.action)):
            raise Refused(
                "auditLog", "action", f"{self.action[:80]!r} is not an action (e.g. cases.batch.submitted, or cases.)"
            )
        if self.entity_type is not None and (len(self.entity_type) > 60 or not ENTITY_TYPE.match(self.entity_type)):
            raise Refused(
                "auditLog", "entityType", f"{self.entity_type[:60]!r} is not an entity type (e.g. batch, job)"
            )
        if self.entity_id is not None and self.entity_type is None:
            raise Refused("auditLog", "entityId", "needs entityType (a target is type:id)")
        for name, value, n in (("actor", self.actor, 200), ("entityId", self.entity_id, 140)):
            if value is not None and (not value or len(value) > n or not value.isprintable()):
                raise Refused("auditLog", name, f"must be 1 to {n} printable characters")


def entries_query(f: AuditFilter, limit: int, after: tuple[datetime.datetime, str, int] | None) -> Select:
    """The page's statement: newest first, ties by tenant and id; limit + 1 rows (is there more?)."""
    f.check()
    e = AuditEntry
    q = select(e).order_by(e.at.desc(), e.tenant_id.desc(), e.id.desc()).limit(limit + 1)
    if f.tenant is not None:
        q = q.where(e.tenant_id == f.tenant)
    if f.since is not None:
        q = q.where(e.at >= f.since)
    if f.until is not None:
        q = q.where(e.at < f.until)
    if f.actor is not None:
        q = q.where(e.actor == f.actor)
    if f.action is not None:
        q = q.where(func.starts_with(e.action, f.action) if f.action.endswith(".") else e.action == f.action)
    if f.entity_type is not None:
        if f.entity_id is not None:
            q = q.where(e.target == f"{f.entity_type}:{f.entity_id}")
        else:
            q = q.where(func.starts_with(e.target, f"{f.entity_type}:"))
    if f.hospital is not None:
        q = q.where(e.hospital_id == f.hospital)
    if after is not None:
        q = q.where(tuple_(e.at, e.tenant_id, e.id) < tuple_(*after))
    return q


def entity(target: str | None) -> tuple[str | None, str | None]:
    """A target "type:id" as (type, id); a target without a type is all id."""
    if target is None:
        return None, None
    kind, sep, rest = target.partition(":")
    return (kind, rest) if sep and ENTITY_TYPE.match(kind) else (None, target)


@dataclass(frozen=True)
class Detail:
    """One value of an entry's details: its path (a.b, a[0]), its kind and its text (numbers as
    written, booleans true/false, null as None)."""

    key: str
    kind: str  # text, number, boolean, null
    value: str | None


def details(payload: Any) -> list[Detail]:
    """The payload flattened depth-first, keys sorted; objects and lists open into their members
    (an empty one is itself, kind text: {} or [])."""
    out: list[Detail] = []

    def walk(path: str, v: Any) -> None:
        if len(out) > MAX_DETAILS:
            return
        if isinstance(v, dict) and v:
            for k in sorted(v, key=str):  # jsonb keeps its own key order (shortest first): sort for one
                walk(f"{path}.{k}" if path else str(k), v[k])
        elif isinstance(v, list) and v:
            for i, x in enumerate(v):
                walk(f"{path}[{i}]", x)
        elif isinstance(v, bool):
            out.append(Detail(path, "boolean", "true" if v else "false"))
        elif isinstance(v, int | float | Decimal):
            out.append(Detail(path, "number", str(v)))
        elif v is None:
            out.append(Detail(path, "null", None))
        elif isinstance(v, dict | list):
            out.append(Detail(path, "text", "{}" if isinstance(v, dict) else "[]"))
        else:
            out.append(Detail(path, "text", str(v)))

    walk("", payload if isinstance(payload, dict) else {"value": payload})
    if len(out) > MAX_DETAILS:
        out = [*out[:MAX_DETAILS], Detail("…", "text", f"more than {MAX_DETAILS} values: the rest left out")]
    return out
