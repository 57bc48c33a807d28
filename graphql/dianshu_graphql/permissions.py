"""Role checks declared on fields and mutations. Rows are filtered by row-level security; these
checks decide which operations a role may call at all."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from dianshu.scope import Role
from dianshu_graphql.errors import Forbidden


def require_roles(info: Info, roles: set[Role] | frozenset[str]) -> None:
    role = info.context.scope.role
    names = {r.value if isinstance(r, Role) else r for r in roles}
    if role.value not in names:
        raise Forbidden(f"role {role.value} may not do this (allowed: {', '.join(sorted(names))})")


def require_tenant(info: Info, tenant_id: str) -> None:
    if not info.context.scope.sees_tenant(tenant_id):
        raise Forbidden(f"tenant {tenant_id} is outside your scope")


class HasRole(BasePermission):
    """`permission_classes=[HasRole.of(Role.city_admin, ...)]`."""

    message = "not allowed for your role"
    roles: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *roles: Role) -> type[HasRole]:
        names = frozenset(r.value for r in roles)
        return type(
            f"HasRole_{'_'.join(sorted(names))}",
            (cls,),
            {"roles": names, "message": f"allowed for {', '.join(sorted(names))} only"},
        )

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.scope.role.value in self.roles


def denied(info: Info, roles: set[Role] | frozenset[str], tenant: str):  # -> PermissionDenied | None
    """The typed error a mutation returns when the role or the tenant is not the caller's."""
    from dianshu_graphql.errors import PermissionDenied

    try:
        require_roles(info, roles)
        require_tenant(info, tenant)
    except Forbidden as e:
        return PermissionDenied(message=str(e))
    return None
