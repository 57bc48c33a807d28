"""A supervision run (job SUPERVISION_RUN): every rule of the catalogue over a region's year (or a
city's: all its regions, peers city-wide), optionally limited to some discharge months, writing
findings retry-safely.

- A finding is found again by its fingerprint (sha256 of rule | hospital | key, the key being the
  sorted list ids of its cases, the patient for frequent admission, the year for a hospital-level
  signal), unique per tenant: a re-run never duplicates.
- An open finding is refreshed (figures, evidence, cases); a decided one keeps what was decided on
  and its state; both get last_seen_run = this run.
- Nothing is closed silently: a finding of a rule this run judged, in the period it judged, that was
  not found again is flagged `stale` (the cases were corrected or recalled, or a parameter changed)
  and keeps its state; found again, the flag goes.
- months: case-level rules anchored on a case (split admission on the readmission) judge only cases
  discharged in those months; frequent admission and the hospital-level signals always judge the
  whole year. `batch` (an ingestion batch id) instead: the months that batch touched (its rows' and
  those of the versions its corrections superseded), the incremental run after an ingestion.
- The scheme version: `version` (a DRG scheme version id) or the scheme of the city's payment
  standard in force on the year's last day. Relative weights (CMI, high-RW share) come from that
  standard; without one, the rules that need them are skipped and the result says so.
- The policy: the region's effective policy of ledger `all` (the city's defaults for a city run)."""

from __future__ import annotations

import datetime
import re
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu import bounds
from dianshu.audit import service as audit
from dianshu.db.planner import NO_NESTED_LOOPS, planner_settings
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.runs.policies import effective_policy
from dianshu.standards.in_force import standard_in_force
from dianshu.standards.models import DrgSchemeVersion
from dianshu.supervision.catalogue import BY_CODE, RULES
from dianshu.supervision.queue import prioritise
from dianshu.supervision.rules import HITS_TABLE, NEEDS_STANDARD, YEAR_WIDE
from dianshu.supervision.rules import RULES as SQL
from dianshu.supervision.rules.hospitals import EVIDENCE_CASES, STATS
from dianshu.tenancy.models import Tenant

SUPERVISION_RUN = "supervision.run"
ALL_MONTHS = list(range(1, 13))


def check_params(p: dict[str, Any]) -> tuple[int, list[int], uuid.UUID | None]:
    unknown = sorted(set(p) - {"year", "months", "version", "batch"})
    if unknown:
        raise JobRejected(f"{unknown[0]}: not a parameter of {SUPERVISION_RUN}", field=unknown[0])
    year = p.get("year")
    if (reason := bounds.year_reason(year)) is not None:
        raise JobRejected(f"year: {reason}", field="year")
    months = p.get("months")
    if months is None:
        months = ALL_MONTHS
    if not isinstance(months, list) or not months:
        raise JobRejected("months: a non-empty list of months (or left out: the whole year)", field="months")
    for m in months:
        if (reason := bounds.month_reason(m)) is not None:
            raise JobRejected(f"months: {reason}", field="months")
    if p.get("batch") is not None:
        if p.get("months") is not None:
            raise JobRejected("months: not with batch (the batch's months are judged)", field="months")
        try:
            uuid.UUID(str(p["batch"]))
        except ValueError:
            raise JobRejected("batch: an ingestion batch id", field="batch") from None
    version = p.get("version")
    vid = None
    if version is not None:
        try:
            vid = uuid.UUID(str(version))
        except ValueError:
            raise JobRejected("version: a DRG scheme version id", field="version") from None
    return int(year), sorted(set(months)), vid  # type: ignore[arg-type]


async def _tenants(session: AsyncSession, tenant: str) -> tuple[list[str], str]:
    """The run's regions and their city: a region alone, or a city's regions."""
    row = (await session.execute(select(Tenant.code, Tenant.parent_code).where(Tenant.code == tenant))).first()
    if row is None:
        raise JobRejected(f"tenant: {tenant} is unknown", field="tenant")
    if row.parent_code:
        return [tenant], row.parent_code
    regions = sorted((await session.execute(select(Tenant.code).where(Tenant.parent_code == tenant))).scalars())
    if not regions:
        raise JobRejected(f"tenant: {tenant} is neither a region nor a city with regions", field="tenant")
    return regions, tenant


def params(
    policy: Policy, year: int, months: list[int], tenants: list[str], version: uuid.UUID, standard: uuid.UUID | None
) -> dict[str, Any]:
    """Every bind the rules use."""
    return {
        "tenants": tenants,
        "version": version,
        "standard": standard,
        "year": year,
        "months": months,
        "from": datetime.date(year, 1, 1),
        "to": datetime.date(year, 12, 1),
        "prev_from": datetime.date(year - 1, 1, 1),
        "lookahead": datetime.date(year + 1, 2, 1),
        "split_from": datetime.date(year - 1, 12, 1),
        "exempt": list(policy.readmission_exempt_adrgs),
        "split_days": policy.supervision_split_days,
        "gap_min": policy.supervision_split_gap_min_days,
        "gap_max": policy.supervision_split_gap_max_days,
        "frequent_days": policy.supervision_frequent_days,
        "ls_max_los": policy.supervision_low_standard_max_los,
        "ls_exam_share": policy.supervision_low_standard_exam_share,
        "ls_treatment_share": policy.supervision_low_standard_max_treatment_share,
        "bh_min_los": policy.supervision_bed_hanging_min_los,
        "bh_daily": policy.supervision_bed_hanging_daily_charges,
        "vent_min": policy.supervision_vent_min_hours,
        "vent_max": policy.supervision_vent_max_hours,
        "pct": policy.supervision_peer_percentile,
        "cc_margin": policy.supervision_upcoding_share_margin,
        "cmi_margin": policy.supervision_upcoding_cmi_margin,
        "cc_jump": policy.supervision_upcoding_jump,
        "z": policy.supervision_upcoding_z,
        "min_cases": policy.supervision_hospital_min_cases,
        "own_rise": policy.supervision_own_pay_rise,
        "switch_share": policy.supervision_own_pay_switch_share,
        "high_rw": policy.supervision_shortfall_high_rw,
        "sf_drop": policy.supervision_shortfall_drop,
        "sf_readm_rise": policy.supervision_shortfall_readmission_rise,
        "cost_ratio": policy.supervision_high_cost_ratio,
        "own_max": policy.supervision_own_pay_max_share,
        "evidence_cases": EVIDENCE_CASES,
    }


def _sql_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal):
        return "numeric"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, uuid.UUID):
        return "uuid"
    if isinstance(value, list):
        return "int[]" if value and isinstance(value[0], int) else "text[]"
    if isinstance(value, str):
        return "text"
    return None


def prepared(sql: str, all_params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The statement with every bind it names cast to its type (asyncpg deduces one type per bind,
    and a bind used as a number and compared with a column would otherwise clash), and those binds."""
    used = {k: v for k, v in all_params.items() if re.search(rf"(?<!:):{k}\b", sql)}
    for k, v in used.items():
        tp = _sql_type(v) or "uuid"  # None: the standard id when there is none
        sql = re.sub(rf"(?<!:):{k}\b", f"cast(:{k} as {tp})", sql)
    return text(sql), used


async def batch_months(session: AsyncSession, tenants: list[str], batch: uuid.UUID, year: int) -> list[int]:
    """The discharge months of `year` an ingestion batch touched: its rows' and, for corrections,
    those of the versions they superseded (a finding on the old version is judged again)."""
    rows = await session.execute(
        text("""
        select distinct extract(month from c.discharge_month)::int as m from case_record c
        where c.tenant_id = any(:t) and extract(year from c.discharge_month)::int = :y
          and (c.batch_id = :b or exists (
                select 1 from case_record n where n.tenant_id = c.tenant_id and n.hospital_id = c.hospital_id
                and n.list_id = c.list_id and n.batch_id = :b and n.version = c.version + 1))
        order by m"""),
        {"t": tenants, "y": year, "b": batch},
    )
    return list(rows.scalars())


async def run_rules(ctx: JobContext, year: int, months: list[int], version: uuid.UUID | None) -> dict[str, Any]:
    s = ctx.session
    tenants, city = await _tenants(s, ctx.tenant_id)
    std = await standard_in_force(s, city, datetime.date(year, 12, 31))
    if version is None:
        if std is None:
            raise JobRejected(
                f"version: no payment standard of {city} is in force at the end of {year}: name the scheme version",
                field="version",
            )
        version = std.scheme_version_id
    elif (await s.execute(select(DrgSchemeVersion.id).where(DrgSchemeVersion.id == version))).first() is None:
        raise JobRejected(f"version: no DRG scheme version {version}", field="version")
    standard = std.id if std is not None and std.scheme_version_id == version else None
    region = None if ctx.tenant_id == city else ctx.tenant_id
    policy = (await effective_policy(s, city, region, year, "all")).policy
    if ctx.params.get("batch") is not None:
        months = await batch_months(s, tenants, uuid.UUID(str(ctx.params["batch"])), year)
        if not months:
            return {
                "tenants": tenants,
                "year": year,
                "months": [],
                "version": str(version),
                "standard": None,
                "rules": {},
                "skipped": {},
                "findings": 0,
                "new": 0,
                "stale": 0,
            }
    binds = params(policy, year, months, tenants, version, standard)

    await ctx.progress(0, len(RULES), "staging the hospitals' figures")
    await s.execute(text(HITS_TABLE))
    await s.execute(*prepared(STATS, binds))
    judged, skipped = [], {}
    for i, r in enumerate(RULES):
        if r.code in NEEDS_STANDARD and standard is None:
            skipped[r.code] = "no payment standard in force for the scheme version: no relative weights"
            continue
        await s.execute(*prepared(SQL[r.code](), {**binds, "severity": r.severity}))
        judged.append(r.code)
        await ctx.progress(i + 1, len(RULES), f"rule {r.code}")
    await s.execute(
        text(
            "update sup_hits set fingerprint = "
            "encode(sha256(convert_to(rule || '|' || hospital_id || '|' || key, 'UTF8')), 'hex')"
        )
    )
    # The write-back joins the hits to the findings of the year: large sets both, and the findings'
    # statistics lag behind a first run's inserts (autovacuum analyses them later). A region's second
    # run once took 100 s instead of 10 on such an estimate; the hits' own statistics (a temporary
    # table is never analysed automatically) and hash joins keep it to seconds.
    await s.execute(text("analyze sup_hits"))
    async with planner_settings(s, NO_NESTED_LOOPS):
        upserted = (
            await s.execute(
                text("""
            insert into supervision_finding as f (tenant_id, id, hospital_id, rule, level, year, month, fingerprint,
                patient_id, severity, state, stale, figure, threshold, peer_value, unit, evidence, last_seen_run)
            select distinct on (tenant_id, fingerprint) tenant_id, gen_random_uuid(), hospital_id, rule, level,
                   :year, month, fingerprint, patient_id, severity, 'open', false, figure, threshold, peer_value,
                   unit, evidence, :run
            from sup_hits order by tenant_id, fingerprint
            on conflict (tenant_id, fingerprint) do update set
                last_seen_run = excluded.last_seen_run, last_seen_at = now(), stale = false,
                month = case when f.state = 'open' then excluded.month else f.month end,
                figure = case when f.state = 'open' then excluded.figure else f.figure end,
                threshold = case when f.state = 'open' then excluded.threshold else f.threshold end,
                peer_value = case when f.state = 'open' then excluded.peer_value else f.peer_value end,
                evidence = case when f.state = 'open' then excluded.evidence else f.evidence end
            returning f.rule, (xmax = 0) as inserted"""),
                {"year": year, "run": ctx.job_id},
            )
        ).all()
        # The cases of open findings follow the data (a corrected case has a new id; frequent admission
        # gains stays); a decided finding keeps the cases it was decided on.
        await s.execute(
            text("""
            delete from supervision_finding_case fc using supervision_finding f, sup_hits h
            where f.tenant_id = h.tenant_id and f.fingerprint = h.fingerprint and f.state = 'open'
              and fc.tenant_id = f.tenant_id and fc.finding_id = f.id and not (fc.list_id = any(h.list_ids))""")
        )
        await s.execute(
            text("""
            insert into supervision_finding_case (tenant_id, finding_id, list_id, hospital_id, case_id, subject)
            select f.tenant_id, f.id, u.list_id, f.hospital_id, u.case_id, u.list_id = any(h.subjects)
            from sup_hits h join supervision_finding f on f.tenant_id = h.tenant_id and f.fingerprint = h.fingerprint
            cross join lateral unnest(h.list_ids, h.case_ids) as u(list_id, case_id)
            where f.state = 'open' or not exists (select 1 from supervision_finding_case x
                                                  where x.tenant_id = f.tenant_id and x.finding_id = f.id)
            on conflict (tenant_id, finding_id, list_id) do update set case_id = excluded.case_id,
                subject = excluded.subject
            where (supervision_finding_case.case_id, supervision_finding_case.subject)
                  is distinct from (excluded.case_id, excluded.subject)""")
        )
    anchored = [c for c in judged if BY_CODE[c].level == "case" and c not in YEAR_WIDE]
    whole_year = [c for c in judged if c not in anchored]
    stale = (
        await s.execute(
            text("""
        update supervision_finding set stale = true
        where tenant_id = any(:tenants) and year = :year and last_seen_run <> :run and not stale
          and (rule = any(:whole_year) or (rule = any(:anchored) and month = any(:months)))
        returning rule"""),
            {
                "tenants": tenants,
                "year": year,
                "run": ctx.job_id,
                "whole_year": whole_year,
                "anchored": anchored,
                "months": months,
            },
        )
    ).all()
    # The audit queue's order from the latest anomaly run (new findings get their priority now).
    await prioritise(s, tenants, year)
    found, new, staled = (
        Counter(r.rule for r in upserted),
        Counter(r.rule for r in upserted if r.inserted),
        Counter(r.rule for r in stale),
    )
    summary = {
        "tenants": tenants,
        "year": year,
        "months": months,
        "version": str(version),
        "standard": str(standard) if standard else None,
        "rules": {c: {"found": found[c], "new": new[c], "stale": staled[c]} for c in judged},
        "skipped": skipped,
        "findings": sum(found.values()),
        "new": sum(new.values()),
        "stale": sum(staled.values()),
    }
    await audit.record(s, ctx.scope, ctx.tenant_id, "supervision.run", f"job:{ctx.job_id}", **summary)
    return summary


async def check_run(session: Any, tenant: str, p: dict[str, Any]) -> None:
    check_params(p)
    await _tenants(session, tenant)


@job_kind(SUPERVISION_RUN, roles={"city_admin", "region_admin"}, check=check_run)
async def supervision_job(ctx: JobContext) -> dict[str, Any]:
    year, months, version = check_params(ctx.params)
    return await run_rules(ctx, year, months, version)
