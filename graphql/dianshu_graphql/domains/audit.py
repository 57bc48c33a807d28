"""auditLog: the bureau's reading of the audit log (platform/dianshu/audit/query.py)."""

from __future__ import annotations

import datetime

import strawberry
from strawberry.types import Info

from dianshu.audit.query import AuditFilter, entries_query
from dianshu.errors import Refused
from dianshu_graphql import pagination
from dianshu_graphql.errors import ExpectedError
from dianshu_graphql.permissions import BUREAU, Allow
from dianshu_graphql.types.audit import AuditEntry


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="The audit log of the tenants you may see, newest first (city and region bureaus only). "
        "Filters combine: tenant; since (inclusive) and until (exclusive), with their zone; actor; action, exact "
        "or a family ending in '.' (cases.); the entity of the target type:id (entityType, with entityId); "
        "hospital.",
        extensions=[Allow(*BUREAU)],
    )
    async def audit_log(
        self,
        info: Info,
        tenant: str | None = None,
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
        hospital: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[AuditEntry]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.iso_datetime, str, pagination.key_int)
        f = AuditFilter(tenant, since, until, actor, action, entity_type, entity_id, hospital)
        try:
            q = entries_query(f, limit, tuple(cursor) if cursor else None)  # type: ignore[arg-type]
        except Refused as e:
            raise ExpectedError(f"{e.field}: {e.reason}", e.field) from None
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(
            rows, limit, lambda r: [r.at.isoformat(), r.tenant_id, r.id], AuditEntry.of, after=after
        )
