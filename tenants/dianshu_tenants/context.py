"""From a principal to the database scope its requests run under.

City roles get an explicit list of their city's tenants (never a bypass); a region role its one
region; a hospital user its region and hospital; an integrator the tenants both its token and its
service account name; an expert its tenants but no hospital rows (review assignments come later)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select, text

from dianshu.accounts.models import ServiceAccount
from dianshu.db.session import Database
from dianshu.scope import Role, Scope
from dianshu.tenancy.models import Tenant
from dianshu_tenants.identity import AuthError, Principal


@dataclass(frozen=True)
class TenantInfo:
    code: str
    name: str
    kind: str
    parent_code: str | None


class TenantRegistry:
    """The tenant registry, cached briefly in-process (it is small reference data)."""

    def __init__(self, db: Database, ttl_seconds: float = 30.0) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self._loaded_at = 0.0
        self._tenants: dict[str, TenantInfo] = {}
        # Bumped whenever a load finds other tenants than the last (a region added to a city): what
        # is kept from the tenants (the whole-response cache's key) is kept under it.
        self.generation = 0
        # (tenants, hospital) -> (when, the tenants that have the hospital): found ones only, so a
        # hospital just added to a roster is never refused from memory.
        self._hospitals: dict[tuple[tuple[str, ...], str], tuple[float, list[str]]] = {}

    async def all(self) -> dict[str, TenantInfo]:
        if time.monotonic() - self._loaded_at > self.ttl:
            async with self.db.session(None) as s:
                rows = (await s.execute(select(Tenant.code, Tenant.name, Tenant.kind, Tenant.parent_code))).all()
            tenants = {r.code: TenantInfo(r.code, r.name, r.kind, r.parent_code) for r in rows}
            if tenants != self._tenants:
                self.generation += 1
            self._tenants = tenants
            self._loaded_at = time.monotonic()
        return self._tenants

    def invalidate(self) -> None:
        self._loaded_at = 0.0
        self._hospitals.clear()

    async def hospital_tenants(self, scope: Scope) -> list[str]:
        """The tenants of `scope` that have the scope's hospital, remembered for `ttl` seconds when
        found: every request of a hospital's token asks, and a roster changes rarely."""
        assert scope.hospital_id is not None
        key = (scope.tenant_ids, scope.hospital_id)
        found = self._hospitals.get(key)
        if found is not None and time.monotonic() - found[0] <= self.ttl:
            return found[1]
        owners = await _hospital_tenants(self.db, scope)
        if owners:
            if len(self._hospitals) > 100_000:  # bounded: tokens name at most a city's hospitals
                self._hospitals.clear()
            self._hospitals[key] = (time.monotonic(), owners)
        return owners


async def resolve_scope(db: Database, registry: TenantRegistry, principal: Principal) -> Scope:
    tenants = await registry.all()
    for code in principal.tenant_ids:
        if code not in tenants:
            raise AuthError(f"token names unknown tenant {code}")
    role, actor = principal.role, principal.subject
    if role.is_city:
        cities = [c for c in principal.tenant_ids if tenants[c].kind == "city"]
        if len(cities) != len(principal.tenant_ids):
            raise AuthError(f"a {role.value} token names city tenants only")
        scope_ids = [c for c in cities] + sorted(t.code for t in tenants.values() if t.parent_code in cities)
        return Scope(role, tuple(scope_ids), None, actor, all_hospitals=True)
    if role.is_region:
        (code,) = principal.tenant_ids
        if tenants[code].kind != "region":
            raise AuthError(f"a {role.value} token names a region, not {code}")
        return Scope(role, (code,), None, actor, all_hospitals=True)
    if role is Role.hospital_user:
        (code,) = principal.tenant_ids
        scope = _scope(role, (code,), principal.hospital_id, actor)
        if not await registry.hospital_tenants(scope):
            raise AuthError(f"token names hospital {principal.hospital_id}, not a hospital of tenant {code}")
        return scope
    if role is Role.integrator:
        async with db.session(None) as s:
            account = await s.get(ServiceAccount, principal.service_account)
        if account is None or not account.active:
            raise AuthError(f"service account {principal.service_account} is unknown or deactivated")
        allowed = [t for t in principal.tenant_ids if t in account.tenant_ids]
        if not allowed:
            raise AuthError(f"service account {account.id} may not act for {','.join(principal.tenant_ids)}")
        if account.hospital_id and principal.hospital_id and principal.hospital_id != account.hospital_id:
            raise AuthError(f"service account {account.id} is limited to hospital {account.hospital_id}")
        hospital = account.hospital_id or principal.hospital_id
        if hospital is None:
            return Scope(role, tuple(allowed), None, actor, all_hospitals=True)
        # A hospital-bound credential acts for that hospital, in its own region only.
        owners = await registry.hospital_tenants(_scope(role, tuple(allowed), hospital, actor))
        if not owners:
            raise AuthError(
                f"service account {account.id} names hospital {hospital}, not a hospital of {','.join(allowed)}"
            )
        return Scope(role, tuple(owners), hospital, actor)
    if role is Role.expert:
        return Scope(role, principal.tenant_ids, None, actor)
    raise AuthError(f"role {role.value} cannot call the API")


def _scope(role: Role, tenant_ids: tuple[str, ...], hospital: str | None, actor: str) -> Scope:
    try:
        return Scope(role, tenant_ids, hospital, actor)
    except ValueError as e:  # a code the scope cannot hold is the token's fault: 401, not 500
        raise AuthError(f"token scope refused: {e}") from e


async def _hospital_tenants(db: Database, scope: Scope) -> list[str]:
    """The tenants of `scope` that have the scope's hospital (row-level security compares by equality)."""
    async with db.session(scope) as s, s.begin():
        found = await s.execute(
            text("select tenant_id from hospital where tenant_id = any(:t) and id = :h order by tenant_id"),
            {"t": list(scope.tenant_ids), "h": scope.hospital_id},
        )
        return list(found.scalars())
