from __future__ import annotations

import strawberry
from strawberry.types import Info

from dianshu_graphql.permissions import RoleEnum
from dianshu_graphql.types.identity import Me


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="Who you are and what your scope covers.")
    def me(self, info: Info) -> Me:
        p, s = info.context.principal, info.context.scope
        return Me(
            subject=p.subject,
            role=RoleEnum(p.role.value),
            tenant_codes=list(s.tenant_ids),
            hospital_code=s.hospital_id,
            service_account=p.service_account,
        )
