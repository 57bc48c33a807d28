"""Evaluation runs (job evaluation.run): score every hospital of a region for a year against the
peers of its level (scoring.py) and store a draft run; publishing it (publish_run) puts it in force
and retires the one before. Settlement reads the published run's totals (settlement/runs/inputs.py).

Peers come from the policy's evaluation_peer_scope (ledger "all" of the region's policy): `region`,
the region's own hospitals; `city`, the hospitals of every region of the city, which only a city
administrator's job (on the city tenant, so its scope holds every region) can read: it writes one
run per region, sharing one group id. A region's job refuses a city scope.

Inputs, read lazily (their modules are their helpers'):
  evaluation.versions.catalogue_in_force(session, year) → (version id, label, Catalogue)
  evaluation.indicators.compute_indicators(session, tenants, year) → IndicatorSet
  evaluation.entries.entered_values(session, tenants, year) → {(hospital, code): Decimal}
  training.coverage.coverage_values(session, tenants, year) → {hospital: Coverage}: F07 (source
    training) from the records for a (hospital, year) with coders or physicians on that year's
    declared roster (they win over an entered F07); the entered value otherwise
and confirmed fraud: a case_violation of kind fraud on a case discharged in the year (any version of
the case: a recalled case's fraud stays proven). E02 complaints_per_1000 is entered as a count:
its value is count × 1000 / the hospital's cases of the year.

Each hospital's figures stay under its row-level security (evaluation_indicator_score holds the
value, numerator and denominator each score used: together with the run's `inputs` they reproduce
it); the peers' percentiles (evaluation_peer_stat) name no hospital."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu import bounds
from dianshu.audit import service as audit
from dianshu.errors import Refused
from dianshu.evaluation.catalogue import Catalogue
from dianshu.evaluation.indicators.queries import peer_pool
from dianshu.evaluation.run_models import (
    EvaluationDimensionScore,
    EvaluationIndicatorScore,
    EvaluationPeerStat,
    EvaluationResult,
    EvaluationRun,
)
from dianshu.evaluation.scoring import MISSING, NOT_APPLICABLE, VALUE, Observed, Scored, score_all
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.scope import Scope
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.runs.policies import effective_policy
from dianshu.settlement.runs.versions import lock, next_version
from dianshu.tenancy.service import parent_city

RUN = "evaluation.run"
FOUR = Decimal("0.0001")
THOUSAND = Decimal(1000)
# Entered as a count; the value is per 1000 of the hospital's cases in the year.
PER_1000_CASES = ("complaints_per_1000",)


class EvaluationRefused(Refused):
    """An evaluation run that cannot be published (record: the run)."""


def q4(x: Decimal) -> Decimal:
    return x.quantize(FOUR, ROUND_HALF_UP)


def check_year(p: dict[str, Any]) -> int:
    year = p.get("year")
    if (reason := bounds.year_reason(year)) is not None:
        raise JobRejected(f"year: {reason}", field="year")
    assert isinstance(year, int)
    return year


async def check_run(session: Any, tenant: str, p: dict[str, Any]) -> None:
    check_year(p)
    if unknown := sorted(set(p) - {"year"}):
        raise JobRejected(f"parameters: unknown {', '.join(unknown)}", field="parameters")


def observe(
    catalogue: Catalogue,
    hospitals: Sequence[str],
    values: Mapping[tuple[str, str], Any],
    cases: Mapping[str, int],
    entered: Mapping[tuple[str, str], Decimal],
    trained: Mapping[str, tuple[Decimal, Decimal, Decimal]] | None = None,
) -> dict[tuple[str, str], Observed]:
    """(hospital, indicator code) → what scoring sees: computed measures by computation name, entered
    values by code (E02's count per 1000 cases), not applicable when there is no value. `trained`:
    hospital → (coverage, trained, roster) from the training records (training/coverage.py), which
    win over an entered value of a `training` indicator (F07) for the hospitals it has."""
    out: dict[tuple[str, str], Observed] = {}
    trained = trained or {}
    for h in hospitals:
        for ind in catalogue.indicators:
            if ind.source == "training" and h in trained:
                value, numerator, denominator = trained[h]
                out[(h, ind.code)] = Observed(VALUE, value, numerator, denominator)
                continue
            if ind.entered:
                x = entered.get((h, ind.code))
                if x is None:
                    out[(h, ind.code)] = Observed(MISSING)
                elif ind.computation in PER_1000_CASES:
                    n = Decimal(cases.get(h, 0))
                    out[(h, ind.code)] = (
                        Observed(VALUE, q4(x * THOUSAND / n), x, n) if n else Observed(NOT_APPLICABLE, None, x, n)
                    )
                else:
                    out[(h, ind.code)] = Observed(VALUE, x)
                continue
            m = values.get((h, ind.computation))
            if m is None:
                out[(h, ind.code)] = Observed(NOT_APPLICABLE)
            elif m.value is None:
                out[(h, ind.code)] = Observed(NOT_APPLICABLE, None, m.numerator, m.denominator)
            else:
                out[(h, ind.code)] = Observed(VALUE, m.value, m.numerator, m.denominator)
    return out


async def proven_fraud(session: AsyncSession, tenants: Sequence[str], year: int) -> set[str]:
    rows = await session.execute(
        text(
            "select distinct v.hospital_id from case_violation v where v.tenant_id = any(:t) and v.kind = 'fraud' "
            "and exists (select 1 from case_record c where c.tenant_id = v.tenant_id and c.hospital_id = v.hospital_id "
            "and c.list_id = v.list_id and extract(year from c.discharge_month)::int = :y)"
        ),
        {"t": list(tenants), "y": year},
    )
    return set(rows.scalars())


def _digest(observed: Mapping[tuple[str, str], Observed], levels: Mapping[str, int], fraud: set[str]) -> str:
    canon = {
        "observed": sorted(
            [h, c, o.status, *(None if x is None else str(x) for x in (o.value, o.numerator, o.denominator))]
            for (h, c), o in observed.items()
        ),
        "levels": sorted(levels.items()),
        "fraud": sorted(fraud),
    }
    return hashlib.sha256(json.dumps(canon, separators=(",", ":")).encode()).hexdigest()


def _evaluation_parameters(policy: Policy) -> dict[str, Any]:
    d = policy.as_dict()
    return {k: d[k] for k in ("evaluation_peer_scope", "evaluation_coefficient_floors", "evaluation_coefficients")}


@job_kind(RUN, roles={"city_admin", "region_admin"}, check=check_run)
async def run_evaluation(ctx: JobContext) -> dict[str, Any]:
    from dianshu.evaluation.entries import entered_values
    from dianshu.evaluation.indicators import compute_indicators
    from dianshu.evaluation.versions import catalogue_in_force
    from dianshu.training.coverage import coverage_values

    year = check_year(ctx.params)
    s, tenant = ctx.session, ctx.tenant_id
    city = await parent_city(s, tenant)
    if city is None:  # the city itself: every region in the job's scope
        city, regions = tenant, sorted(t for t in ctx.scope.tenant_ids if t != tenant)
        if not regions:
            raise JobRejected(f"tenant: {tenant} has no regions to evaluate", field="tenant")
    else:
        regions = [tenant]
    policies = {r: (await effective_policy(s, city, r, year, "all")).policy for r in regions}
    if city != tenant and policies[tenant].evaluation_peer_scope == "city":
        raise JobRejected(
            f"evaluation_peer_scope is city: peers are every region's hospitals, so the city administrator runs "
            f"the evaluation (on {city})",
            field="evaluation_peer_scope",
        )
    try:
        catalogue_version, catalogue_label, catalogue = await catalogue_in_force(s, year)
    except Refused as e:  # none published for the year
        raise JobRejected(f"catalogue: {e}", field="catalogue") from e
    # Peer pools: the whole city for regions whose scope is city (one pool), else the region alone.
    pools: dict[str, list[str]] = defaultdict(list)
    for r in regions:
        pools[peer_pool(policies[r].evaluation_peer_scope, r)].append(r)
    group_id = uuid.uuid4()
    runs = []
    total = len(regions)
    for pool, members in sorted(pools.items()):
        peers = regions if pool == "city" else members
        try:
            iset = await compute_indicators(s, peers, year)
            entered = await entered_values(s, peers, year)
            trained = {
                h: (c.coverage, Decimal(c.trained), Decimal(c.roster))
                for h, c in (await coverage_values(s, peers, year)).items()
                if c.coverage is not None
            }
        except Refused as e:  # e.g. no payment standard in force for the year
            raise JobRejected(f"{e.field}: {e}", field=e.field) from e
        fraud = await proven_fraud(s, peers, year)
        levels = {h: int(level) for h, (_, level) in iset.hospitals.items()}
        region_of = {h: t for h, (t, _) in iset.hospitals.items()}
        observed = observe(catalogue, sorted(levels), iset.values, iset.cases, entered, trained)
        digest = _digest(observed, levels, fraud)
        for r in members:
            policy = policies[r]
            scored = score_all(
                catalogue,
                observed,
                levels,
                fraud,
                policy.evaluation_coefficient_floors,
                policy.evaluation_coefficients,
            )
            run = await _store(
                ctx,
                r,
                year,
                group_id,
                catalogue_version,
                catalogue_label,
                "city" if pool == "city" else "region",
                scored,
                [h for h in sorted(levels) if region_of[h] == r],
                levels,
                {
                    "catalogue": {
                        "version_id": str(catalogue_version) if catalogue_version else None,
                        "label": catalogue_label,
                    },
                    "policy": _evaluation_parameters(policy),
                    "peer_tenants": list(peers),
                    "peer_hospitals": len(levels),
                    "inputs_sha256": digest,
                    "sources": {
                        "computed": "evaluation.indicators.compute_indicators",
                        "entered": "evaluation.entries.entered_values",
                        "training": "training.coverage.coverage_values (the records win over an entered F07 "
                        "for a hospital with a declared roster in the year)",
                        "fraud": "case_violation kind fraud on a case discharged in the year",
                        "values": f"evaluation_indicator_score rows of the runs of group {group_id}",
                    },
                },
            )
            runs.append(run)
            await ctx.progress(len(runs), total, f"scored {r}")
    return {
        "year": year,
        "group_id": str(group_id),
        "runs": [
            {"id": str(x.id), "tenant": x.tenant_id, "version": x.version, "peer_scope": x.peer_scope, **x.summary}
            for x in runs
        ],
    }


async def _store(
    ctx: JobContext,
    tenant: str,
    year: int,
    group_id: uuid.UUID,
    catalogue_version: uuid.UUID | None,
    catalogue_label: str,
    peer_scope: str,
    scored: Scored,
    hospitals: list[str],
    levels: Mapping[str, int],
    inputs: dict[str, Any],
) -> EvaluationRun:
    s = ctx.session
    await lock(s, f"evaluation:{tenant}:{year}")
    version = await next_version(s, EvaluationRun, EvaluationRun.tenant_id == tenant, EvaluationRun.year == year)
    mine = [scored.hospitals[h] for h in hospitals]
    summary = {
        "hospitals": len(mine),
        "capped": sum(1 for x in mine if x.capped),
        "renormalised": sum(1 for x in mine if x.renormalised),
    }
    run = EvaluationRun(
        tenant_id=tenant,
        id=uuid.uuid4(),
        group_id=group_id,
        year=year,
        version=version,
        status="draft",
        catalogue_version_id=catalogue_version,
        catalogue_label=catalogue_label[:200],
        peer_scope=peer_scope,
        inputs=inputs,
        summary=summary,
        job_id=ctx.job_id,
        created_by=ctx.scope.actor,
    )
    s.add(run)
    await s.flush()
    group_sizes: dict[Any, int] = defaultdict(int)
    for x in scored.hospitals.values():
        group_sizes[x.peer_group] += 1
    rows: list[Any] = []
    for x in mine:
        key = {"tenant_id": tenant, "run_id": run.id, "hospital_id": x.hospital}
        rows.append(
            EvaluationResult(
                **key,
                level=levels[x.hospital],
                total=x.total,
                exact_total=x.exact_total,
                capped=x.capped,
                rank_band=x.rank_band,
                peers=group_sizes[x.peer_group],
                coefficient=x.coefficient,
                left_out=list(x.left_out),
                notes=list(x.notes),
            )
        )
        rows.extend(
            EvaluationDimensionScore(
                **key, dimension=d.dimension, weight=d.weight, score=d.shown, indicators_scored=d.indicators_scored
            )
            for d in x.dimensions.values()
        )
        rows.extend(
            EvaluationIndicatorScore(
                **key,
                code=i.code,
                dimension=i.dimension,
                status=i.observed.status,
                value=i.observed.value,
                numerator=i.observed.numerator,
                denominator=i.observed.denominator,
                active=i.active,
                weight=i.weight,
                score=i.shown,
            )
            for i in x.indicators.values()
        )
    present_levels = {levels[h] for h in hospitals}
    rows.extend(
        EvaluationPeerStat(
            tenant_id=tenant,
            run_id=run.id,
            level=int(level),  # type: ignore[call-overload]
            code=code,
            n=st.n,
            p25=None if st.p25 is None else q4(st.p25),
            p75=None if st.p75 is None else q4(st.p75),
        )
        for (level, code), st in scored.peer_stats.items()
        if level in present_levels
    )
    s.add_all(rows)
    await s.flush()
    await audit.record(
        s, ctx.scope, tenant, "evaluation.run", f"evaluation_run:{run.id}", year=year, version=version, **summary
    )
    return run


async def publish_run(session: AsyncSession, scope: Scope, tenant: str, run_id: uuid.UUID) -> EvaluationRun:
    """Publish a draft run: it is then in force for its region and year (and frozen); the run in
    force before is retired. Publishing a published run again is a no-op (nothing written, nothing
    audited); only the newest version may be published; a retired run stays retired."""
    await lock(session, f"evaluation:{tenant}:publish")
    run = (
        await session.execute(
            select(EvaluationRun).where(EvaluationRun.tenant_id == tenant, EvaluationRun.id == run_id).with_for_update()
        )
    ).scalar_one_or_none()
    record = f"evaluation run {run_id}"
    if run is None:
        raise EvaluationRefused(record, "id", f"no evaluation run {run_id} in {tenant}", kind="not_found")
    if run.status == "published":
        return run
    if run.status == "retired":
        raise EvaluationRefused(record, "id", "it was retired by a newer published version", kind="state")
    newest = (
        await session.execute(
            select(func.max(EvaluationRun.version)).where(
                EvaluationRun.tenant_id == tenant, EvaluationRun.year == run.year
            )
        )
    ).scalar_one()
    if run.version != newest:
        raise EvaluationRefused(
            record, "id", f"version {run.version} is not the newest ({newest}): publish the newest run", kind="state"
        )
    retired = (
        await session.execute(
            update(EvaluationRun)
            .where(
                EvaluationRun.tenant_id == tenant, EvaluationRun.year == run.year, EvaluationRun.status == "published"
            )
            .values(status="retired", retired_at=func.now())
            .returning(EvaluationRun.id, EvaluationRun.version)
        )
    ).all()
    await session.execute(
        update(EvaluationRun)
        .where(EvaluationRun.tenant_id == tenant, EvaluationRun.id == run_id)
        .values(status="published", published_by=scope.actor, published_at=func.now())
    )
    await audit.record(
        session,
        scope,
        tenant,
        "evaluation.published",
        f"evaluation_run:{run_id}",
        year=run.year,
        version=run.version,
        retired=[str(r.id) for r in retired],
    )
    await session.refresh(run)
    return run


async def published_run(session: AsyncSession, tenant: str, year: int) -> EvaluationRun | None:
    """The run in force for a region's year, if one is published."""
    return (
        await session.execute(
            select(EvaluationRun).where(
                EvaluationRun.tenant_id == tenant, EvaluationRun.year == year, EvaluationRun.status == "published"
            )
        )
    ).scalar_one_or_none()


async def published_totals(
    session: AsyncSession, tenant: str, year: int
) -> tuple[EvaluationRun | None, dict[str, Decimal]]:
    """The published run of a region's year and each hospital's total in it (none: no run)."""
    run = await published_run(session, tenant, year)
    if run is None:
        return None, {}
    rows = await session.execute(
        select(EvaluationResult.hospital_id, EvaluationResult.total).where(
            EvaluationResult.tenant_id == tenant, EvaluationResult.run_id == run.id
        )
    )
    return run, {h: t for h, t in rows}
