from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit.models import AuditEntry
from dianshu.scope import Scope


async def record(
    session: AsyncSession,
    scope: Scope,
    tenant_id: str,
    action: str,
    target: str | None = None,
    *,
    hospital_id: str | None = None,
    **details: Any,
) -> None:
    """Append an audit entry in the caller's transaction (it commits or rolls back with the act)."""
    if hospital_id is None and scope.hospital_id is not None:
        hospital_id = scope.hospital_id
    await session.execute(
        insert(AuditEntry).values(
            tenant_id=tenant_id,
            actor=scope.actor,
            role=scope.role.value,
            hospital_id=hospital_id,
            action=action,
            target=target,
            details=details,
        )
    )
