"""Who may call what, declared once per field, mutation or REST path with `Allow`.

Rows are filtered by row-level security; `Allow` decides which operations a role may call at all
and, when the call names a tenant (a `tenant` argument, or `input.tenant`), that the tenant is in
the caller's scope. The roles are given, or read from the job registry (`Allow(job=KIND)`: who may
submit that kind of job), never repeated in a resolver.

    @strawberry.mutation(extensions=[Allow(job=GROUP_CASES)])
    async def group_cases(self, info: Info, input: GroupCasesInput) -> GroupCasesResult: ...

    @strawberry.field(extensions=[Allow(Role.city_admin, Role.region_admin)])
    async def something(self, info: Info, tenant: str) -> Thing: ...

    @strawberry.field(extensions=[Allow(*ANYONE)])  # any role, in its own tenants only
    async def things(self, info: Info, tenant: str) -> ThingConnection: ...

A refusal is the field's typed `PermissionDenied` when its result union has one, else a top-level
`Forbidden` error (extensions.code FORBIDDEN). The committed SDL shows each declaration as
`@allowedRoles(roles: [...])` on the field. REST paths use the same declaration through `guarded`
(rest.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from enum import Enum
from functools import cached_property
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.schema_directive import Location
from strawberry.types import Info

from dianshu.scope import HUMAN_ROLES, Role, Scope
from dianshu_graphql.errors import Forbidden, PermissionDenied
from graphql import GraphQLNonNull, GraphQLUnionType

# Role sets that several fields declare (`Allow(*BUREAU)`).
# Every person's role: the field refuses only a tenant outside the caller's scope (rows are row-level security's).
ANYONE: tuple[Role, ...] = HUMAN_ROLES
# The medical-insurance bureaus (医保局), the city's and the regions', administrators and viewers.
BUREAU: tuple[Role, ...] = (Role.city_admin, Role.city_viewer, Role.region_admin, Role.region_viewer)

RoleEnum = strawberry.enum(
    Enum("Role", {r.name: r.value for r in HUMAN_ROLES}),  # type: ignore[misc]
    description="A caller's role (the token's role claim).",
)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="allowedRoles",
    description="Only these roles may call the field; a tenant it names must be in the caller's scope.",
)
class AllowedRoles:
    roles: list[RoleEnum]  # type: ignore[valid-type]


def _role_names(roles: Iterable[Role | str]) -> frozenset[str]:
    return frozenset(r.value if isinstance(r, Role) else str(r) for r in roles)


class Allow(FieldExtension):
    """The roles that may call a field (given, and/or a job kind's from the registry) and the tenant
    check. One instance per field; it holds no request state."""

    def __init__(self, *roles: Role | str, job: str | None = None, tenant: bool = True) -> None:
        self._given = _role_names(roles)
        self.job = job
        self.check_tenant = tenant
        if not roles and job is None:
            raise ValueError("Allow needs roles or a job kind")

    @cached_property
    def roles(self) -> frozenset[str]:
        if self.job is None:
            return self._given
        from dianshu.jobs.registry import get_kind

        return self._given | get_kind(self.job).roles

    def refusal(self, scope: Scope, tenant: str | None) -> str | None:
        """Why this caller may not do this, or None."""
        if scope.role.value not in self.roles:
            return f"role {scope.role.value} may not do this (allowed: {', '.join(sorted(self.roles))})"
        if self.check_tenant and tenant is not None and not scope.sees_tenant(tenant):
            return f"tenant {tenant} is outside your scope"
        return None

    # ---- as a strawberry field extension ----------------------------------------------------------

    def apply(self, field: Any) -> None:
        # Called each time a schema is built from the field: the directive goes on once.
        if any(isinstance(d, AllowedRoles) for d in field.directives):
            return
        order = {r.value: i for i, r in enumerate(HUMAN_ROLES)}
        names = sorted((r for r in self.roles if r in order), key=order.__getitem__)
        field.directives.append(AllowedRoles(roles=[RoleEnum(n) for n in names]))

    @staticmethod
    def tenant_of(kwargs: dict[str, Any]) -> str | None:
        """The tenant a call names: its `tenant` argument, or its input's."""
        tenant = kwargs.get("tenant")
        if tenant is None and (given := kwargs.get("input")) is not None:
            tenant = getattr(given, "tenant", None)
        return tenant if isinstance(tenant, str) else None

    def _refused(self, info: Info, kwargs: dict[str, Any]) -> Any:
        why = self.refusal(info.context.scope, self.tenant_of(kwargs) if self.check_tenant else None)
        if why is None:
            return None
        if typed_permission_denied(info):
            return PermissionDenied(message=why)
        raise Forbidden(why)

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        if (refused := self._refused(info, kwargs)) is not None:
            return refused
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        if (refused := self._refused(info, kwargs)) is not None:
            return refused
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result


def typed_permission_denied(info: Any) -> bool:
    """Whether the field's result union has a PermissionDenied member (`info`: strawberry's or graphql-core's)."""
    t = getattr(info, "_raw_info", info).return_type
    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLUnionType) and any(m.name == "PermissionDenied" for m in t.types)
