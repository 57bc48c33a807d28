"""Reading a region's year from the database into the engine's typed inputs: the payment standard
in force, the effective policy per ledger, hospitals, alliances, evaluation scores (an override, else
the published evaluation run: evaluation_scores), and every current, active,
grouped case with its readmissions, confirmed violations, decided reviews and new technologies."""

from __future__ import annotations

import calendar
import datetime
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu import bounds
from dianshu.cases.current import current_cases
from dianshu.db.copy import raw_connection
from dianshu.evaluation.runs import published_totals
from dianshu.jobs.errors import JobRejected
from dianshu.settlement.arithmetic.points import DrgParams
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.arithmetic.year import (
    AllianceIn,
    CaseIn,
    HospitalIn,
    NewTechnology,
    Review,
    Stay,
    Violation,
    find_readmissions,
)
from dianshu.settlement.models import Alliance, CaseViolation, EvaluationScore
from dianshu.settlement.runs.policies import EffectivePolicy, effective_policy
from dianshu.standards.in_force import standard_in_force
from dianshu.standards.models import NewTechnology as NewTechnologyRow
from dianshu.standards.models import PaymentStandard, PaymentStandardDrg
from dianshu.tenancy.service import parent_city

FUND_TYPES = ("employee", "resident")


def month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def check_period(year: Any, month: Any) -> tuple[int, int]:
    try:
        y, m = int(year), int(month)
    except (TypeError, ValueError):
        raise JobRejected("year, month: whole numbers are required", field="year") from None
    if (reason := bounds.year_reason(y)) is not None:
        raise JobRejected(f"year: {reason}", field="year")
    if (reason := bounds.month_reason(m)) is not None:
        raise JobRejected(f"month: {reason}", field="month")
    return y, m


async def city_of(session: AsyncSession, tenant: str) -> str:
    city = await parent_city(session, tenant)
    if not city:
        raise JobRejected(f"tenant: {tenant} is not a region of a city", field="tenant")
    return city


async def require_standard_in_force(session: AsyncSession, city: str, on: datetime.date) -> PaymentStandard:
    """The city's payment standard in force on `on` (standards.in_force), refused when there is none."""
    std = await standard_in_force(session, city, on)
    if std is None:
        raise JobRejected(
            f"no published payment standard of {city} is in force on {on}: calibrate and publish one first",
            field="standard",
        )
    return std


@dataclass
class PolicySet:
    """The policy of each ledger; `merged` when the region settles both fund types as one."""

    by_ledger: dict[str, EffectivePolicy]
    merged: bool

    def ledger_of(self, fund_type: str) -> str:
        return "all" if self.merged else fund_type

    def policy(self, ledger: str) -> Policy:
        return self.by_ledger[ledger].policy

    def snapshot(self) -> dict[str, Any]:
        return {
            k: {"parameters": v.policy.as_dict(), "city_version": v.city_version, "region_version": v.region_version}
            for k, v in self.by_ledger.items()
        }


async def policy_set(session: AsyncSession, city: str, tenant: str, year: int) -> PolicySet:
    merged = await effective_policy(session, city, tenant, year, "all")
    if merged.policy.merge_ledgers:
        return PolicySet({"all": merged}, True)
    return PolicySet({f: await effective_policy(session, city, tenant, year, f) for f in FUND_TYPES}, False)


async def drg_params(session: AsyncSession, standard_id: uuid.UUID) -> dict[str, DrgParams]:
    """The standard's per-DRG parameters; a bed-day group without its points per day is refused
    (it would silently be priced as an ordinary DRG)."""
    rows = (
        (await session.execute(select(PaymentStandardDrg).where(PaymentStandardDrg.standard_id == standard_id)))
        .scalars()
        .all()
    )
    for r in rows:
        if r.bed_day and r.base_points_per_day is None:
            raise JobRejected(
                f"payment standard {standard_id}, DRG {r.drg}: a bed-day group needs base_points_per_day",
                field="base_points_per_day",
            )
    return {
        r.drg: DrgParams(
            r.drg,
            r.avg_cost,
            r.base_points,
            stable=r.stable,
            base_group=r.base_group,
            bed_day=r.bed_day,
            base_points_per_day=r.base_points_per_day,
            tcm=r.tcm,
            cases=r.cases,
        )
        for r in rows
    }


@dataclass(frozen=True)
class EvaluationScores:
    """Each hospital's evaluation score for a year and where it came from: the region's explicit
    override (evaluation_score, source override, with its reason) if there is one, else its total
    in the published evaluation run, else none (counted as 100)."""

    scores: dict[str, Decimal]
    sources: dict[str, str]  # hospital -> "override" | "evaluation_run"
    run_id: uuid.UUID | None  # the published evaluation run read, if any
    run_version: int | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "evaluation_run": str(self.run_id) if self.run_id else None,
            "evaluation_run_version": self.run_version,
            "score_sources": dict(sorted(self.sources.items())),
        }


async def evaluation_scores(session: AsyncSession, tenant: str, year: int) -> EvaluationScores:
    run, totals = await published_totals(session, tenant, year)
    overrides = {
        r.hospital_id: r.score
        for r in (
            await session.execute(
                select(EvaluationScore).where(
                    EvaluationScore.tenant_id == tenant,
                    EvaluationScore.year == year,
                    EvaluationScore.source == "override",
                )
            )
        ).scalars()
    }
    scores = {**totals, **overrides}
    sources = {h: "override" if h in overrides else "evaluation_run" for h in scores}
    return EvaluationScores(scores, sources, run.id if run else None, run.version if run else None)


async def hospitals_of(session: AsyncSession, tenant: str, year: int) -> dict[str, HospitalIn]:
    scores = (await evaluation_scores(session, tenant, year)).scores
    rows = await session.execute(
        text("select id, coefficient, type from hospital where tenant_id = :t order by id"), {"t": tenant}
    )
    return {r.id: HospitalIn(r.id, r.coefficient, r.type, scores.get(r.id)) for r in rows}


async def alliances_of(session: AsyncSession, tenant: str) -> list[AllianceIn]:
    rows = (
        await session.execute(
            select(Alliance).where(Alliance.tenant_id == tenant, Alliance.settle_as_one).order_by(Alliance.id)
        )
    ).scalars()
    return [AllianceIn(a.id, a.lead_hospital, {h: Decimal(v) for h, v in a.shares.items()}) for a in rows]


@dataclass(slots=True)
class LoadedCase:
    case: CaseIn
    list_id: str
    drg: str


@dataclass
class PointsInputs:
    tenant: str
    year: int
    through_month: int
    standard: PaymentStandard
    groups: dict[str, DrgParams]
    hospitals: dict[str, HospitalIn]
    policies: PolicySet
    cases: dict[int, LoadedCase]
    fingerprints: dict[str, Any] = field(default_factory=dict)


# Read by column name (asyncpg records) in load_points_inputs.
CASES_SQL = f"""
select c.id, c.hospital_id, c.list_id, c.patient_id, c.fund_type, c.admit_time, c.discharge_time, c.los_days,
       c.discharge_way, c.readmit_planned, c.total_cost, c.fund_pay, c.discharge_month, c.content_hash,
       g.drg, g.adrg, case when $5 then c.procedures end as procedures, c.insured_place
from case_record c
join case_grouping g on g.tenant_id = c.tenant_id and g.case_id = c.id and g.version_id = $2
  and g.year = $6  -- the year's partition alone (migration 0023)
where c.tenant_id = $1 and {current_cases("c")} and c.discharge_month between $3 and $4
order by c.id
"""


async def ungrouped_count(
    session: AsyncSession, tenant: str, version: uuid.UUID, start: datetime.date, end: datetime.date
) -> int:
    return (
        await session.execute(
            text(
                f"select count(*) from case_record c where c.tenant_id = :t and {current_cases('c')} "
                "and c.discharge_month between :a and :b and not exists (select 1 from case_grouping g "
                "where g.tenant_id = c.tenant_id and g.case_id = c.id and g.version_id = :v)"
            ),
            {"t": tenant, "a": start, "b": end, "v": version},
        )
    ).scalar_one()


async def load_points_inputs(session: AsyncSession, tenant: str, year: int, through_month: int) -> PointsInputs:
    city = await city_of(session, tenant)
    start, end = datetime.date(year, 1, 1), datetime.date(year, through_month, 1)
    cutoff = month_end(year, through_month)
    std = await require_standard_in_force(session, city, cutoff)
    missing = await ungrouped_count(session, tenant, std.scheme_version_id, start, end)
    if missing:
        raise JobRejected(
            f"{missing} current cases of {year}-01..{year}-{through_month:02d} are not grouped under the standard's "
            f"scheme version {std.scheme_version_id}: run grouping for the period first",
            field="cases",
        )
    groups = await drg_params(session, std.id)
    hospitals = await hospitals_of(session, tenant, year)
    policies = await policy_set(session, city, tenant, year)

    techs = (
        await session.execute(
            select(NewTechnologyRow).where(NewTechnologyRow.city_code == city, NewTechnologyRow.first_year <= year)
        )
    ).scalars()
    tech_of = {t.procedure_code: t for t in techs}
    # Confirmed violations count whenever they were found; review decisions land in the month decided,
    # and the year's clearing (through December) takes every decision made by the time it runs.
    violations = {
        (v.hospital_id, v.list_id): Violation(v.kind, v.serious)
        for v in (await session.execute(select(CaseViolation).where(CaseViolation.tenant_id == tenant))).scalars()
    }
    decided_by = end if through_month < 12 else datetime.date(2100, 1, 1)
    reviews = {
        (r.hospital_id, r.list_id): Review(r.outcome, r.decided_points)
        for r in await session.execute(
            text(
                "select hospital_id, list_id, outcome, decided_points from special_review where tenant_id = :t "
                # A decision stays in force through an appeal's review until the appeal decides.
                "and state <> 'rejected' and outcome is not null and decided_month <= :m"
            ),
            {"t": tenant, "m": decided_by},
        )
    }

    # The year's cases through asyncpg directly (in the same transaction, so under the same scope):
    # a million rows cost seconds less than through result rows.
    pg = await raw_connection(session)
    rows = await pg.fetch(CASES_SQL, tenant, std.scheme_version_id, start, end, bool(tech_of), year)
    # Cross-province cases carved out of the budget are paid outside the points: they leave the run.
    carved = {ledger for ledger, p in policies.by_ledger.items() if p.policy.carve_out_cross_province}
    ledger_of = policies.ledger_of
    carved_out = 0
    if carved:
        kept = [r for r in rows if not (r["insured_place"] == 3 and ledger_of(r["fund_type"]) in carved)]
        carved_out, rows = len(rows) - len(kept), kept
    digest = hashlib.sha256()
    stays_by_ledger: dict[str, list[Stay]] = defaultdict(list)
    for r in rows:
        digest.update(f"{r['id']}:{r['content_hash']}:{r['drg']};".encode())
        stays_by_ledger[ledger_of(r["fund_type"])].append(
            Stay(
                str(r["id"]),
                r["hospital_id"],
                r["patient_id"],
                r["admit_time"],
                r["discharge_time"],
                r["drg"],
                r["adrg"],
                r["readmit_planned"],
            )
        )
    readmits: dict[str, str] = {}
    for ledger, stays in stays_by_ledger.items():
        readmits.update(find_readmissions(stays, policies.policy(ledger)))
    cases: dict[int, LoadedCase] = {}
    no_tech: tuple[NewTechnology, ...] = ()
    for r in rows:
        cid, hospital, list_id, drg, procs = r["id"], r["hospital_id"], r["list_id"], r["drg"], r["procedures"]
        total, fund_pay, fund_type = r["total_cost"], r["fund_pay"], r["fund_type"]
        key = (hospital, list_id)
        new_tech = no_tech
        if tech_of and procs:
            new_tech = tuple(
                NewTechnology(p, tech_of[p].cost, year - tech_of[p].first_year + 1) for p in procs if p in tech_of
            )
        sid = str(cid)
        cases[cid] = LoadedCase(
            CaseIn(
                sid,
                hospital,
                drg,
                total,
                r["los_days"],
                r["discharge_way"],
                total - fund_pay,
                fund_type,
                fund_pay,
                r["discharge_month"].month,
                readmits.get(sid),
                violations.get(key),
                reviews.get(key),
                new_tech,
            ),
            list_id,
            drg,
        )
    return PointsInputs(
        tenant,
        year,
        through_month,
        std,
        groups,
        hospitals,
        policies,
        cases,
        {
            "cases": len(cases),
            "case_set_sha256": digest.hexdigest(),
            "violations": len(violations),
            "reviews": len(reviews),
            "new_technologies": sorted(tech_of),
            "readmissions": len(readmits),
            "carved_out_cross_province": carved_out,
        },
    )
