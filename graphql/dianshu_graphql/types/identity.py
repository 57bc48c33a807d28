from __future__ import annotations

import strawberry

from dianshu_graphql.permissions import RoleEnum


@strawberry.type(description="The caller, as its token and scope say.")
class Me:
    subject: str
    role: RoleEnum  # type: ignore[valid-type]
    tenant_codes: list[str] = strawberry.field(description="Every tenant the caller's scope covers.")
    hospital_code: str | None
    service_account: str | None
