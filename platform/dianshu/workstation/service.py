"""The workstation check in the database: what a region's year needs (the payment standard in
force, its DRG parameters, the policy and the provisional point value of each ledger, the hospitals'
coefficients, the compiled grouper) read once and kept in memory for a short while (`TTL_SECONDS`)
per (tenant, year); each check then makes one indexed query, the patient's last discharge
(index ix_case_record_patient, migration 0015), under the caller's scope (row-level security).

Who may check for which hospital: a caller bound to a hospital (hospital_user, a hospital-bound
integrator) checks for its own only; the bureau and unbound integrators name a hospital of their
tenants."""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.cases.current import current_cases
from dianshu.cases.pseudonym import pseudonym
from dianshu.config import get_settings
from dianshu.db.session import Database, scoped_session
from dianshu.jobs.errors import JobRejected
from dianshu.scope import Scope
from dianshu.settlement.arithmetic.points import DrgParams
from dianshu.settlement.runs.inputs import drg_params, policy_set
from dianshu.settlement.runs.settle import provisional_point_value
from dianshu.standards.in_force import standard_in_force
from dianshu.standards.models import DrgSchemeVersion
from dianshu.standards.service import grouper_for
from dianshu.tenancy.service import parent_city
from dianshu.workstation.check import CheckResult, LastStay, Standing, check, surgical_adrgs
from dianshu.workstation.draft import DraftCase, DraftRefused, read_draft

TTL_SECONDS = 60.0
log = logging.getLogger(__name__)
RECORD = "draft"


@dataclass
class TenantYear:
    """A region's year as the check needs it (read under the system scope of that one tenant: the
    standard and policy are the region's own reference data; the check shows a caller only its
    hospital's coefficient)."""

    tenant: str
    year: int
    loaded_at: float
    coefficients: dict[str, Decimal]  # hospital -> differential coefficient
    problem: str | None = None  # why no check can run (no standard in force), else None
    grouper: Any = None
    scheme_version_id: Any = None
    standard_id: str = ""
    standard_label: str = ""
    avg_cost_all: Decimal = Decimal(0)
    params: dict[str, DrgParams] | None = None
    ledger_of: Any = None
    policies: dict[str, Any] | None = None  # ledger -> Policy
    point_values: dict[str, tuple[Decimal | None, str]] | None = None
    surgical: dict[str, frozenset[str]] | None = None
    scheme_label: str = ""


def reference_day(year: int, today: datetime.date | None = None) -> datetime.date:
    """The day whose standard a year's drafts are priced on: today within the current year, the
    year's last day for a past year, its first for a future one."""
    today = today or datetime.date.today()
    if year == today.year:
        return today
    return datetime.date(year, 12, 31) if year < today.year else datetime.date(year, 1, 1)


async def load_tenant_year(session: AsyncSession, tenant: str, year: int) -> TenantYear:
    rows = await session.execute(
        text("select id, coefficient from hospital where tenant_id = :t order by id"), {"t": tenant}
    )
    coefficients = {r.id: r.coefficient for r in rows}
    ty = TenantYear(tenant, year, time.monotonic(), coefficients)
    city = await parent_city(session, tenant)
    if not city:
        ty.problem = f"tenant {tenant} is not a region of a city"
        return ty
    on = reference_day(year)
    std = await standard_in_force(session, city, on)
    if std is None:
        ty.problem = f"no published payment standard of {city} is in force on {on}"
        return ty
    try:
        ty.params = await drg_params(session, std.id)
    except JobRejected as e:
        ty.problem = str(e)
        return ty
    policies = await policy_set(session, city, tenant, year)
    ty.ledger_of = policies.ledger_of
    ty.policies = {ledger: p.policy for ledger, p in policies.by_ledger.items()}
    ty.point_values = {}
    for ledger, policy in ty.policies.items():
        pv, source = await provisional_point_value(session, tenant, year, ledger, policy)
        ty.point_values[ledger] = (pv if pv > 0 else None, source)
    ty.grouper = await grouper_for(session, std.scheme_version_id)
    ty.surgical = _surgical(ty.grouper)
    ty.scheme_version_id = std.scheme_version_id
    version = await session.get(DrgSchemeVersion, std.scheme_version_id)
    ty.scheme_label = version.label if version is not None else ""
    ty.standard_id, ty.standard_label, ty.avg_cost_all = str(std.id), std.label, std.avg_cost_all
    return ty


_SURGICAL: dict[int, dict[str, frozenset[str]]] = {}


def _surgical(grouper: Any) -> dict[str, frozenset[str]]:
    # Compiled groupers live as long as the process (standards.service): so does this index of one.
    key = id(grouper)
    if key not in _SURGICAL:
        _SURGICAL[key] = surgical_adrgs(grouper)
    return _SURGICAL[key]


class StandingCache:
    """(tenant, year) -> TenantYear. A missing entry is read at once (the caller waits); one older
    than `ttl` seconds is still answered from while a background task reads it again (at most one
    per entry), so a refresh never holds up a check. Reads run one at a time in the process: the
    first ones compile the grouper (CPU-bound, about a second), and a burst of first calls for
    several regions must compile it once, not once each."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._years: dict[tuple[str, int], TenantYear] = {}
        self._lock = asyncio.Lock()
        self._refreshing: dict[tuple[str, int], asyncio.Task[Any]] = {}

    def clear(self) -> None:
        self._years.clear()

    async def _read(self, db: Database, key: tuple[str, int]) -> TenantYear:
        async with self._lock:
            found = self._years.get(key)
            if found is not None and time.monotonic() - found.loaded_at < self.ttl:
                return found  # read meanwhile by another caller
            tenant, year = key
            async with scoped_session(db, Scope.system((tenant,), actor="workstation")) as s:
                found = await load_tenant_year(s, tenant, year)
            self._years[key] = found
            return found

    async def get(self, db: Database, tenant: str, year: int) -> TenantYear:
        key = (tenant, year)
        found = self._years.get(key)
        if found is None:
            return await self._read(db, key)
        if time.monotonic() - found.loaded_at >= self.ttl and key not in self._refreshing:
            task = asyncio.get_running_loop().create_task(self._read(db, key))
            self._refreshing[key] = task
            task.add_done_callback(lambda t: self._refreshed(key, t))
        return found

    def _refreshed(self, key: tuple[str, int], task: asyncio.Task[Any]) -> None:
        self._refreshing.pop(key, None)
        if not task.cancelled() and (e := task.exception()) is not None:
            # The stale entry stays; the next call after the TTL tries again.
            log.warning("workstation standing %s/%s not refreshed: %s", *key, e)


CACHE = StandingCache()


# The driver's placeholders ($n): the look-up runs on Database.read_one, not through the ORM.
LAST_STAY_SQL = f"""
select c.list_id, c.hospital_id, c.admit_time, c.discharge_time, g.drg, g.adrg
from case_record c
left join case_grouping g on g.tenant_id = c.tenant_id and g.case_id = c.id and g.version_id = $1
where c.tenant_id = $2 and c.patient_id = $3 and c.discharge_time <= $4
  and ($5::text is null or c.hospital_id = $5)
  and ($6::text is null or c.list_id <> $6)
  and {current_cases("c")}
order by c.discharge_time desc
limit 1
"""


async def last_stay(
    db: Database, scope: Scope, ty: TenantYear, hospital: str | None, case: DraftCase
) -> LastStay | None:
    """The patient's last discharge before the draft's admission, at `hospital` (None: in the region),
    as the caller may see it (row-level security under `scope`: a hospital sees its own cases only)."""
    d = case.draft
    # Stays hold the patient's keyed hash (cases/pseudonym.py): the draft's id is hashed to match.
    patient = pseudonym(d.patient_id, get_settings().psn_key_bytes())
    row = await db.read_one(
        scope, LAST_STAY_SQL, ty.scheme_version_id, ty.tenant, patient, d.admission_time, hospital, d.list_id
    )
    if row is None:
        return None
    return LastStay(
        row["list_id"], row["hospital_id"], row["admit_time"], row["discharge_time"], row["drg"], row["adrg"]
    )


def hospital_for(scope: Scope, hospital: str | None) -> str | None:
    """The hospital a caller checks for: its own when bound to one (another is refused), else the
    one it names (required)."""
    if scope.hospital_id is not None:
        if hospital is not None and hospital != scope.hospital_id:
            raise DraftRefused(
                RECORD,
                "hospital",
                f"you may check drafts for your own hospital {scope.hospital_id} only",
                kind="not_found",
            )
        return scope.hospital_id
    if not scope.all_hospitals:
        raise DraftRefused(RECORD, "hospital", "your role sees no hospital", kind="not_found")
    if hospital is None:
        raise DraftRefused(RECORD, "hospital", "required: name the hospital the draft is for")
    return hospital


async def check_draft(
    db: Database, scope: Scope, raw: Any, hospital: str | None = None, cache: StandingCache | None = None
) -> CheckResult:
    """Read the draft strictly, find its hospital's year in memory, look up the patient's last
    discharge (the one query), check. Refusals are DraftRefused naming the field."""
    cache = cache or CACHE
    case = read_draft(raw)
    code = hospital_for(scope, hospital)
    year = case.discharge_date.year
    ty = None
    for tenant in scope.tenant_ids:
        found = await cache.get(db, tenant, year)
        if code in found.coefficients:
            ty = found
            break
    if ty is None:
        raise DraftRefused(RECORD, "hospital", f"no hospital {code} that you may see", kind="not_found")
    if ty.problem is not None:
        raise DraftRefused(RECORD, "standard", f"{ty.problem}: the check cannot price the draft", kind="state")
    assert ty.policies is not None and ty.point_values is not None and ty.params is not None
    ledger = ty.ledger_of(case.draft.fund_type)
    policy = ty.policies[ledger]
    pv, source = ty.point_values[ledger]
    standing = Standing(
        ty.tenant,
        code,
        year,
        ledger,
        ty.grouper,
        ty.standard_id,
        ty.standard_label,
        ty.avg_cost_all,
        ty.params,
        ty.coefficients[code],
        policy,
        pv,
        source,
        ty.surgical or {},
        ty.scheme_label,
    )
    last = await last_stay(db, scope.narrowed(ty.tenant), ty, code if policy.readmission_same_hospital else None, case)
    return check(case, standing, last)
