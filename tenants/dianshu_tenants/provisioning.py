"""Platform provisioning (the owner connection): the tenant registry and integrator service
accounts. Hospitals are region data and arrive through the hospital-import job instead."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from dianshu.accounts.models import ServiceAccount
from dianshu.config import get_settings
from dianshu.db.session import Database
from dianshu.scope import Scope
from dianshu.tenancy.codes import hospital_code_problem
from dianshu.tenancy.models import Tenant


async def ensure_tenants(owner_db: Database, city: tuple[str, str], regions: Iterable[tuple[str, str]]) -> int:
    """Create the city and its regions if missing (idempotent); returns how many were created."""
    rows = [{"code": city[0], "name": city[1], "kind": "city", "parent_code": None}]
    rows += [{"code": c, "name": n, "kind": "region", "parent_code": city[0]} for c, n in regions]
    async with owner_db.session(None) as s, s.begin():
        existing = {
            r.code: r
            for r in (await s.execute(select(Tenant).where(Tenant.code.in_([r["code"] for r in rows])))).scalars()
        }
        for r in rows:
            old = existing.get(r["code"])
            if old is not None and (old.kind != r["kind"] or old.parent_code != r["parent_code"]):
                raise ValueError(
                    f"tenant {r['code']} exists as {old.kind} under {old.parent_code}; refusing to change it"
                )
        created = await s.execute(insert(Tenant).values(rows).on_conflict_do_nothing().returning(Tenant.code))
        return len(created.all())


async def ensure_service_account(
    owner_db: Database, account_id: str, name: str, tenant_ids: list[str], hospital_id: str | None = None
) -> ServiceAccount:
    """Create or update an integrator service account (idempotent). A hospital it is limited to
    must be an existing hospital of one of its tenants (ValueError otherwise)."""
    if hospital_id is not None:
        settings = get_settings()
        problems = [hospital_code_problem(hospital_id, t, settings.hospital_code_pattern_for(t)) for t in tenant_ids]
        if all(problems):
            raise ValueError(f"hospital: {problems[0]}")
        async with owner_db.session(Scope.system(tenant_ids)) as s, s.begin():
            found = await s.execute(
                text("select 1 from hospital where tenant_id = any(:t) and id = :h"),
                {"t": tenant_ids, "h": hospital_id},
            )
            if found.first() is None:
                raise ValueError(f"hospital: {hospital_id} is not a hospital of {', '.join(tenant_ids)}")
    async with owner_db.session(None) as s, s.begin():
        stmt = insert(ServiceAccount).values(
            id=account_id, name=name, tenant_ids=tenant_ids, hospital_id=hospital_id, active=True
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={"name": name, "tenant_ids": tenant_ids, "hospital_id": hospital_id, "active": True},
        )
        await s.execute(stmt)
        return (await s.execute(select(ServiceAccount).where(ServiceAccount.id == account_id))).scalar_one()


async def deactivate_service_account(owner_db: Database, account_id: str) -> None:
    async with owner_db.session(None) as s, s.begin():
        account = await s.get(ServiceAccount, account_id)
        if account is None:
            raise KeyError(f"no service account {account_id}")
        account.active = False
