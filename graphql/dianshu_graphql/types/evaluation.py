"""Evaluation runs and scores (考核评价) as GraphQL types: a run, a hospital's evaluation (its
indicator values and scores, dimension scores, total, rank band, points coefficient) beside its
peers' percentiles, and the job's typed result. Row-level security decides which hospitals a caller
gets; the peers' percentiles name no hospital."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info

from dianshu.evaluation.run_models import EvaluationDimensionScore as DimensionRow
from dianshu.evaluation.run_models import EvaluationIndicatorScore as IndicatorRow
from dianshu.evaluation.run_models import EvaluationPeerStat as PeerStatRow
from dianshu.evaluation.run_models import EvaluationResult as ResultRow
from dianshu.evaluation.run_models import EvaluationRun as RunRow
from dianshu.evaluation.runs import RUN
from dianshu.evaluation.scoring import BAND_LABELS
from dianshu_graphql import node, pagination
from dianshu_graphql.pagination import Connection
from dianshu_graphql.types import job_results
from dianshu_graphql.types.jobs import Job
from dianshu_graphql.types.policies import EvaluationPeerScope


@strawberry.enum(description="Where an evaluation run stands.")
class EvaluationRunStatus(Enum):
    draft = strawberry.enum_value("draft", description="Computed, not in force; a re-run is a new version.")
    published = strawberry.enum_value(
        "published", description="In force for its region and year (frozen); settlement reads its totals."
    )
    retired = strawberry.enum_value("retired", description="Was in force until a newer version was published.")


@strawberry.enum(description="A hospital's quartile among its peers by total (ties share the better band).")
class EvaluationRankBand(Enum):
    Q1 = strawberry.enum_value("Q1", description=f"{BAND_LABELS['Q1']}: fewer than 25% of peers above.")
    Q2 = strawberry.enum_value("Q2", description=f"{BAND_LABELS['Q2']}: 25% to under 50% of peers above.")
    Q3 = strawberry.enum_value("Q3", description=f"{BAND_LABELS['Q3']}: 50% to under 75% of peers above.")
    Q4 = strawberry.enum_value("Q4", description=f"{BAND_LABELS['Q4']}: 75% of peers or more above.")


@strawberry.enum(description="What a hospital's figure for an indicator is.")
class IndicatorScoreStatus(Enum):
    value = strawberry.enum_value("value", description="A value, scored against the peers.")
    not_applicable = strawberry.enum_value(
        "not_applicable",
        description="No value (its denominator was 0): left out, its weight shared by the dimension's others.",
    )
    missing = strawberry.enum_value("missing", description="An entered indicator nobody entered: scores 60.")


@strawberry.enum(description="Where the score a clearing used came from.")
class EvaluationScoreSource(Enum):
    override = strawberry.enum_value("override", description="The region's explicit score, with its reason.")
    evaluation_run = strawberry.enum_value("evaluation_run", description="The published evaluation run's total.")


RunKey = tuple[str, uuid.UUID]
# The fewest peers (the hospital itself among them) whose percentiles a hospital's own user may see.
MIN_PEERS_SHOWN = 4


@strawberry.type(description="The peers' 25th and 75th percentiles (Excel PERCENTILE.INC) of one indicator.")
class EvaluationPeerStat:
    code: str = strawberry.field(description="The indicator's code.")
    level: int = strawberry.field(description="The hospitals' level (1, 2, 3): peers are of the same level.")
    peers: int = strawberry.field(description="Peers with a value (those without are left out).")
    p25: Decimal | None = strawberry.field(
        description="25th percentile, 4 places (null: no peer has a value; or, to a hospital's own user, fewer than "
        "4 peers, whose percentiles would give away the others' figures)."
    )
    p75: Decimal | None = strawberry.field(description="75th percentile, 4 places.")


@strawberry.type(description="A hospital's figure and score for one indicator, beside its peers' percentiles.")
class EvaluationIndicatorScore:
    code: str
    dimension: str
    status: IndicatorScoreStatus
    value: Decimal | None = strawberry.field(description="The indicator's value, 4 places.")
    numerator: Decimal | None
    denominator: Decimal | None
    active: bool = strawberry.field(description="Scored (active) or monitor-only.")
    weight: Decimal = strawberry.field(description="Its weight within its dimension (0: monitor-only).")
    score: Decimal | None = strawberry.field(
        description="0 to 100, 2 places (60 when missing; null: monitor-only or not applicable)."
    )
    peers: EvaluationPeerStat | None = strawberry.field(description="The peers' percentiles of this indicator.")


@strawberry.type(description="A hospital's score in one dimension.")
class EvaluationDimensionScore:
    dimension: str
    weight: Decimal = strawberry.field(description="The dimension's weight in the total.")
    score: Decimal | None = strawberry.field(
        description="The weighted mean of its scored indicators, 2 places (null: nothing scored; left out)."
    )
    indicators_scored: int


@strawberry.type(description="A hospital's evaluation in a run: indicators, dimensions, total, band, coefficient.")
class HospitalEvaluation:
    hospital: str
    tenant_code: str
    year: int
    run: strawberry.ID = strawberry.field(description="The evaluation run's global id.")
    run_status: EvaluationRunStatus
    level: int
    total: Decimal = strawberry.field(description="0 to 100, 2 places, from the unrounded dimension scores.")
    capped: bool = strawberry.field(description="Proven fraud capped the total at 59.")
    rank_band: EvaluationRankBand
    peers: int = strawberry.field(description="Hospitals in its peer group (its level in the peer scope).")
    coefficient: Decimal = strawberry.field(
        description="The points coefficient (奖惩系数) of the total's band in the region's policy (1: no bands)."
    )
    left_out: list[str] = strawberry.field(
        description="Dimensions with nothing scored: left out, the others' weights renormalised."
    )
    notes: list[str]
    dimensions: list[EvaluationDimensionScore]
    indicators: list[EvaluationIndicatorScore]


@strawberry.type(description="The evaluation parameters a run used (the region's policy, ledger all).")
class EvaluationRunPolicy:
    peer_scope: EvaluationPeerScope
    coefficient_floors: list[Decimal]
    coefficients: list[Decimal]


@strawberry.type(description="What an evaluation run was computed from.")
class EvaluationRunInputs:
    policy: EvaluationRunPolicy
    peer_tenants: list[str] = strawberry.field(description="The regions whose hospitals were the peers.")
    peer_hospitals: int
    inputs_sha256: str = strawberry.field(
        description="Digest of every hospital's values, levels and proven fraud: the same inputs give the same digest."
    )


@strawberry.type(description="One scoring of a region's hospitals for a year (考核评价结果).")
class EvaluationRun(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID
    tenant_code: str
    year: int
    version: int = strawberry.field(description="1, 2, … for re-runs of the same year.")
    status: EvaluationRunStatus
    group_id: uuid.UUID = strawberry.field(description="Runs written by one city-wide job share it.")
    peer_scope: EvaluationPeerScope
    catalogue_version_id: uuid.UUID | None
    catalogue_label: str
    hospitals: int
    capped: int = strawberry.field(description="Hospitals whose total proven fraud capped.")
    inputs: EvaluationRunInputs
    created_by: str
    created_at: datetime.datetime
    published_by: str | None
    published_at: datetime.datetime | None
    retired_at: datetime.datetime | None

    @classmethod
    def of(cls, r: Any) -> EvaluationRun:
        policy = r.inputs.get("policy") or {}
        return cls(
            id=node.global_id("EvaluationRun", r.tenant_id, r.id),
            database_id=r.id,
            tenant_code=r.tenant_id,
            year=r.year,
            version=r.version,
            status=EvaluationRunStatus(r.status),
            group_id=r.group_id,
            peer_scope=EvaluationPeerScope(r.peer_scope),
            catalogue_version_id=r.catalogue_version_id,
            catalogue_label=r.catalogue_label,
            hospitals=int(r.summary.get("hospitals", 0)),
            capped=int(r.summary.get("capped", 0)),
            inputs=EvaluationRunInputs(
                policy=EvaluationRunPolicy(
                    peer_scope=EvaluationPeerScope(policy.get("evaluation_peer_scope", r.peer_scope)),
                    coefficient_floors=[Decimal(x) for x in policy.get("evaluation_coefficient_floors", [])],
                    coefficients=[Decimal(x) for x in policy.get("evaluation_coefficients", [])],
                ),
                peer_tenants=list(r.inputs.get("peer_tenants", [])),
                peer_hospitals=int(r.inputs.get("peer_hospitals", 0)),
                inputs_sha256=str(r.inputs.get("inputs_sha256", "")),
            ),
            created_by=r.created_by,
            created_at=r.created_at,
            published_by=r.published_by,
            published_at=r.published_at,
            retired_at=r.retired_at,
        )

    @strawberry.field(
        description="Its hospitals side by side by code (row-level security: a hospital gets its own only)."
    )
    async def results(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Connection[HospitalEvaluation]:
        return await results_page(info, [(self.tenant_code, self.database_id)], first, after)

    @strawberry.field(description="The peers' percentiles per level and indicator (no hospital's figure).")
    async def peer_stats(self, info: Info) -> list[EvaluationPeerStat]:
        stats = await peer_stats(info, [(self.tenant_code, self.database_id)])
        return [s for _, s in sorted(stats.items(), key=lambda kv: (kv[0][1], kv[0][2]))]


async def peer_stats(info: Info, runs: list[RunKey]) -> dict[tuple[uuid.UUID, int, str], EvaluationPeerStat]:
    """(run, level, code) → the peers' percentiles, for the given runs."""
    if not runs:
        return {}
    async with info.context.session() as s:
        rows = (
            await s.execute(select(PeerStatRow).where(tuple_(PeerStatRow.tenant_id, PeerStatRow.run_id).in_(runs)))
        ).scalars()
        # A hospital's own user sees the percentiles only of 4 peers or more: of 2 or 3 (one being
        # itself) they would give away the other hospitals' own figures.
        hidden = info.context.scope.hospital_id is not None
        return {
            (r.run_id, r.level, r.code): EvaluationPeerStat(
                code=r.code,
                level=r.level,
                peers=r.n,
                p25=None if hidden and r.n < MIN_PEERS_SHOWN else r.p25,
                p75=None if hidden and r.n < MIN_PEERS_SHOWN else r.p75,
            )
            for r in rows
        }


async def hospital_evaluations(
    info: Info,
    runs: list[RunKey],
    hospital: str | None = None,
    after: list[Any] | None = None,
    limit: int | None = None,
) -> list[HospitalEvaluation]:
    """The hospitals' evaluations in the given runs (row-level security: the caller's hospitals), by
    tenant and hospital code (after `after`, at most `limit`); four queries whatever the number of
    hospitals."""
    if not runs:
        return []
    stats = await peer_stats(info, runs)

    def of_runs(model: Any) -> Any:
        q = select(model).where(tuple_(model.tenant_id, model.run_id).in_(runs))
        return q.where(model.hospital_id == hospital) if hospital is not None else q

    async with info.context.session() as s:
        meta = {
            r.id: r
            for r in (await s.execute(select(RunRow).where(tuple_(RunRow.tenant_id, RunRow.id).in_(runs)))).scalars()
        }
        q = of_runs(ResultRow).order_by(ResultRow.tenant_id, ResultRow.hospital_id, ResultRow.run_id)
        if after:
            q = q.where(tuple_(ResultRow.tenant_id, ResultRow.hospital_id) > tuple_(*after))
        if limit is not None:
            q = q.limit(limit)
        results = list((await s.execute(q)).scalars())
        hospitals = sorted({r.hospital_id for r in results})

        def of_hospitals(model: Any) -> Any:
            return of_runs(model).where(model.hospital_id.in_(hospitals))

        dims: dict[tuple[uuid.UUID, str], list[Any]] = {}
        for d in (await s.execute(of_hospitals(DimensionRow))).scalars():
            dims.setdefault((d.run_id, d.hospital_id), []).append(d)
        inds: dict[tuple[uuid.UUID, str], list[Any]] = {}
        for i in (await s.execute(of_hospitals(IndicatorRow))).scalars():
            inds.setdefault((i.run_id, i.hospital_id), []).append(i)
    out = []
    for r in results:
        run = meta[r.run_id]
        key = (r.run_id, r.hospital_id)
        out.append(
            HospitalEvaluation(
                hospital=r.hospital_id,
                tenant_code=r.tenant_id,
                year=run.year,
                run=node.global_id("EvaluationRun", r.tenant_id, r.run_id),
                run_status=EvaluationRunStatus(run.status),
                level=r.level,
                total=r.total,
                capped=r.capped,
                rank_band=EvaluationRankBand(r.rank_band),
                peers=r.peers,
                coefficient=r.coefficient,
                left_out=list(r.left_out),
                notes=list(r.notes),
                dimensions=[
                    EvaluationDimensionScore(
                        dimension=d.dimension, weight=d.weight, score=d.score, indicators_scored=d.indicators_scored
                    )
                    for d in dims.get(key, [])
                ],
                indicators=[
                    EvaluationIndicatorScore(
                        code=i.code,
                        dimension=i.dimension,
                        status=IndicatorScoreStatus(i.status),
                        value=i.value,
                        numerator=i.numerator,
                        denominator=i.denominator,
                        active=i.active,
                        weight=i.weight,
                        score=i.score,
                        peers=stats.get((r.run_id, r.level, i.code)),
                    )
                    for i in sorted(inds.get(key, []), key=lambda i: i.code)
                ],
            )
        )
    return out


@strawberry.type(description="The evaluation job (evaluation.run) started: poll job(id) for its status.")
class EvaluationJobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")


@strawberry.type
class EvaluationRunPayload:
    run: EvaluationRun


@strawberry.type(description="A draft run an evaluation job wrote: one per region.")
class EvaluationRunWritten:
    run_id: uuid.UUID = strawberry.field(description="The run's databaseId.")
    tenant_code: str
    version: int
    peer_scope: EvaluationPeerScope
    hospitals: int
    capped: int
    renormalised: int = strawberry.field(description="Hospitals with a dimension left out (nothing scored).")


@strawberry.type(description="What an evaluation job (evaluation.run) produced: a draft run per region.")
class EvaluationJobResult:
    year: int
    group_id: uuid.UUID
    runs: list[EvaluationRunWritten]

    @classmethod
    def of(cls, r: dict[str, Any]) -> EvaluationJobResult:
        return cls(
            year=int(r["year"]),
            group_id=uuid.UUID(str(r["group_id"])),
            runs=[
                EvaluationRunWritten(
                    run_id=uuid.UUID(str(x["id"])),
                    tenant_code=str(x["tenant"]),
                    version=int(x["version"]),
                    peer_scope=EvaluationPeerScope(x["peer_scope"]),
                    hospitals=int(x["hospitals"]),
                    capped=int(x["capped"]),
                    renormalised=int(x["renormalised"]),
                )
                for x in r["runs"]
            ],
        )


async def results_page(
    info: Info, runs: list[RunKey], first: int | None, after: str | None
) -> Connection[HospitalEvaluation]:
    """A page of the runs' hospitals by tenant and hospital code."""
    limit = pagination.page_size(first)
    cursor = pagination.decode_cursor(after, str, str)
    rows = await hospital_evaluations(info, runs, after=cursor, limit=limit + 1)
    return pagination.build(rows, limit, lambda e: [e.tenant_code, e.hospital], lambda e: e, after=after)


job_results.register(RUN, EvaluationJobResult, EvaluationJobResult.of)
