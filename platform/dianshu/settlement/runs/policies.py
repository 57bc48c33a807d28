"""Setting and reading policy parameters: defaults from SPEC, then the city's, then the region's.

Each change is checked (an unknown name or a bad value is refused with its field), stored as a new
version with its reason, and audited; setting the same parameters again adds nothing (safe to retry).
A new version announces POLICY_CHANGED (jobs.events): the jobs that follow it (the analytics refresh
of the year) are submitted in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.errors import Refused
from dianshu.jobs.events import occurred
from dianshu.scope import Scope
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.events import POLICY_CHANGED
from dianshu.settlement.models import PolicyDefault, PolicyVersion
from dianshu.strict import Invalid

LEDGERS = ("employee", "resident", "all")


class PolicyRefused(Refused):
    """Refused parameters (record: "policy <year>/<ledger>"): `issues` holds every (field, reason);
    field and reason are the first."""


@dataclass(frozen=True)
class EffectivePolicy:
    policy: Policy
    city_version: int | None
    region_version: int | None


def _check(year: int, ledger: str, parameters: dict[str, Any], reason: str, base: Policy) -> dict[str, Any]:
    record = f"policy {year}/{ledger}"
    if not 2000 <= year <= 2100:
        raise PolicyRefused(record, "year", f"must be a year (got {year})")
    if ledger not in LEDGERS:
        raise PolicyRefused(record, "ledger", f"must be one of {', '.join(LEDGERS)} (got {ledger!r})")
    if not reason.strip():
        raise PolicyRefused(record, "reason", "required: say why the parameters change")
    if not isinstance(parameters, dict):
        raise PolicyRefused(record, "parameters", "must be a JSON object of parameter names to values")
    try:
        base.with_overrides(parameters)
    except Invalid as e:
        # The policy's paths (policy.reserve_ratio) as the argument's (parameters.reserve_ratio).
        issues = [(i.path.replace("policy", "parameters", 1), i.reason) for i in e.issues]
        raise PolicyRefused(record, *issues[0], more=issues[1:]) from None
    return parameters


async def _latest(session: AsyncSession, model: Any, owner: Any, year: int, ledger: str) -> Any:
    return (
        await session.execute(
            select(model)
            .where(owner, model.year == year, model.ledger == ledger)
            .order_by(model.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def effective_policy(
    session: AsyncSession, city: str, region: str | None, year: int, ledger: str
) -> EffectivePolicy:
    city_row = await _latest(session, PolicyDefault, PolicyDefault.city_code == city, year, ledger)
    policy = Policy().with_overrides(city_row.parameters if city_row else None)
    region_row = None
    if region is not None:
        region_row = await _latest(session, PolicyVersion, PolicyVersion.tenant_id == region, year, ledger)
        policy = policy.with_overrides(region_row.parameters if region_row else None)
    return EffectivePolicy(policy, city_row.version if city_row else None, region_row.version if region_row else None)


async def set_city_defaults(
    session: AsyncSession, scope: Scope, city: str, year: int, ledger: str, parameters: dict[str, Any], reason: str
) -> PolicyDefault:
    _check(year, ledger, parameters, reason, Policy())
    return await _new_version(
        session,
        scope,
        PolicyDefault,
        PolicyDefault.city_code == city,
        {"city_code": city},
        city,
        year,
        ledger,
        parameters,
        reason,
    )


async def set_region_policy(
    session: AsyncSession,
    scope: Scope,
    city: str,
    region: str,
    year: int,
    ledger: str,
    parameters: dict[str, Any],
    reason: str,
) -> PolicyVersion:
    base = (await effective_policy(session, city, None, year, ledger)).policy
    _check(year, ledger, parameters, reason, base)
    return await _new_version(
        session,
        scope,
        PolicyVersion,
        PolicyVersion.tenant_id == region,
        {"tenant_id": region},
        region,
        year,
        ledger,
        parameters,
        reason,
    )


async def _new_version(
    session: AsyncSession,
    scope: Scope,
    model: Any,
    owner: Any,
    keys: dict[str, Any],
    audit_tenant: str,
    year: int,
    ledger: str,
    parameters: dict[str, Any],
    reason: str,
) -> Any:
    # One writer at a time per (owner, year, ledger): versions are numbered without gaps.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"policy:{audit_tenant}:{year}:{ledger}", 0)))
    )
    latest = await _latest(session, model, owner, year, ledger)
    if latest is not None and latest.parameters == parameters:
        return latest  # the same parameters again: nothing new (a retried request)
    row = model(
        **keys,
        year=year,
        ledger=ledger,
        version=(latest.version + 1) if latest else 1,
        parameters=parameters,
        reason=reason.strip()[:1000],
        created_by=scope.actor,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        scope,
        audit_tenant,
        POLICY_CHANGED,
        f"{model.__tablename__}:{year}/{ledger}",
        version=row.version,
        parameters=parameters,
        previous=latest.parameters if latest else None,
        reason=reason.strip()[:1000],
    )
    # audit_tenant: the city for its defaults (a follow-up covers its regions), else the region.
    record = f"{model.__tablename__}:{audit_tenant}:{year}/{ledger}:v{row.version}"
    await occurred(session, scope, audit_tenant, POLICY_CHANGED, {"year": year, "ledger": ledger}, record=record)
    return row
