"""Who a piece of work acts for: the roles of SPEC section 1 and the tenant/hospital scope that
row-level security enforces. Plain values; the database hook in db/session.py applies them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from dianshu.tenancy.codes import plain_code


class Role(StrEnum):
    city_admin = "city_admin"
    city_viewer = "city_viewer"
    region_admin = "region_admin"
    region_viewer = "region_viewer"
    hospital_user = "hospital_user"
    integrator = "integrator"
    expert = "expert"
    # Not a person: background jobs and platform maintenance (outbox sweep, provisioning).
    system = "system"

    @property
    def is_city(self) -> bool:
        return self in (Role.city_admin, Role.city_viewer)

    @property
    def is_region(self) -> bool:
        return self in (Role.region_admin, Role.region_viewer)

    @property
    def can_write(self) -> bool:
        return self in (Role.city_admin, Role.region_admin, Role.hospital_user, Role.integrator, Role.system)


HUMAN_ROLES = tuple(r for r in Role if r is not Role.system)


@dataclass(frozen=True)
class Scope:
    """The rows a transaction may see: tenants by code, and within them one hospital or all.

    "All hospitals" is its own flag, never a value of `hospital_id`: a hospital code is data and is
    only ever compared by equality. `hospital_id=None` without the flag sees no hospital-scoped rows
    (e.g. an expert). An empty `tenant_ids` sees nothing: absence of scope is never a bypass.
    """

    role: Role
    tenant_ids: tuple[str, ...]
    hospital_id: str | None = None
    actor: str = "anonymous"
    all_hospitals: bool = False
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for t in self.tenant_ids:
            if not plain_code(t):
                raise ValueError(f"invalid tenant id {t!r} in scope")
        if self.hospital_id is not None and not plain_code(self.hospital_id):
            raise ValueError(f"invalid hospital id {self.hospital_id!r} in scope")
        if self.all_hospitals and self.hospital_id is not None:
            raise ValueError("a scope sees one hospital or all hospitals, not both")

    def sees_tenant(self, tenant_id: str) -> bool:
        return tenant_id in self.tenant_ids

    def sees_hospital(self, tenant_id: str, hospital_id: str | None) -> bool:
        if not self.sees_tenant(tenant_id):
            return False
        if self.all_hospitals:
            return True
        return hospital_id is not None and hospital_id == self.hospital_id

    def narrowed(self, tenant_id: str, hospital_id: str | None = None) -> Scope:
        """The same actor restricted to one tenant (and, given one, a hospital); never widens."""
        if not self.sees_tenant(tenant_id):
            raise PermissionError(f"scope of {self.actor} does not include tenant {tenant_id}")
        if not self.all_hospitals:
            return Scope(self.role, (tenant_id,), self.hospital_id, self.actor)
        if hospital_id is not None:
            return Scope(self.role, (tenant_id,), hospital_id, self.actor)
        return Scope(self.role, (tenant_id,), None, self.actor, all_hospitals=True)

    @classmethod
    def system(cls, tenant_ids: tuple[str, ...] | list[str], actor: str = "system") -> Scope:
        return cls(Role.system, tuple(tenant_ids), None, actor, all_hospitals=True)
