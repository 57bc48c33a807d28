"""The audit log as the bureau reads it (auditLog): typed fields, the details as key/value pairs."""

from __future__ import annotations

import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from dianshu.audit import query
from dianshu.audit.models import AuditEntry as AuditRow
from dianshu_graphql.loaders import tenant_loader
from dianshu_graphql.types.tenancy import Tenant


@strawberry.enum(description="The kind of an audit detail's value.")
class AuditValueKind(Enum):
    text = "text"
    number = "number"
    boolean = "boolean"
    json_null = "null"  # GraphQL refuses an enum value named null


@strawberry.type(
    description="One value of an entry's details: its path in the payload (hospitals.H1, ids[0]), its kind, and "
    "its text (a number as written, a boolean true/false; null for null)."
)
class AuditDetail:
    key: str
    kind: AuditValueKind
    value: str | None


@strawberry.type(description="One entry of the append-only audit log: who did what, when, to what, in which tenant.")
class AuditEntry:
    tenant_code: str
    database_id: str = strawberry.field(description="The entry's number within its tenant.")
    at: datetime.datetime
    actor: str = strawberry.field(description="Who acted: the token's subject, a service account, or system.")
    role: str = strawberry.field(description="The actor's role when it acted (system for the platform's own jobs).")
    hospital: str | None = strawberry.field(description="The hospital the entry concerns, when one.")
    action: str = strawberry.field(description="What was done, e.g. cases.batch.submitted, settlement.published.")
    target: str | None = strawberry.field(description="What it was done to, as type:id (batch:…, job:…).")
    entity_type: str | None = strawberry.field(description="The target's type (batch, job, run, …).")
    entity_id: str | None = strawberry.field(description="The target's id within its type.")
    details: list[AuditDetail] = strawberry.field(
        description=f"What the entry records beyond that, flattened to typed pairs (at most {query.MAX_DETAILS})."
    )

    @strawberry.field
    async def tenant(self, info: Info) -> Tenant | None:
        t = await info.context.loader("tenant", tenant_loader).load(self.tenant_code)
        return Tenant.of(t) if t else None

    @classmethod
    def of(cls, r: AuditRow) -> AuditEntry:
        kind, ident = query.entity(r.target)
        return cls(
            tenant_code=r.tenant_id,
            database_id=str(r.id),
            at=r.at,
            actor=r.actor,
            role=r.role,
            hospital=r.hospital_id,
            action=r.action,
            target=r.target,
            entity_type=kind,
            entity_id=ident,
            details=[
                AuditDetail(key=d.key, kind=AuditValueKind(d.kind), value=d.value) for d in query.details(r.details)
            ],
        )
