"""Supervision signals (PEPPER-style hospital signals) and the anomaly ranking as GraphQL types, with
the typed results of their jobs (signals.run, anomaly.run)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from dianshu.supervision.anomaly.service import ANOMALY
from dianshu.supervision.signals.service import SIGNALS
from dianshu_graphql import node
from dianshu_graphql.types import job_results
from dianshu_graphql.types.jobs import Job


@strawberry.enum(description="A target area of the hospital signals (PEPPER-style): the share a hospital is ranked on.")
class SignalArea(Enum):
    one_day_stay = strawberry.enum_value(
        "one_day_stay", description="短住院: stays with LOS at most signalShortStayMaxLos (1) / all stays."
    )
    readmission_short = strawberry.enum_value(
        "readmission_short",
        description="Stays admitted within signalReadmissionShortDays (15) of the same patient's previous discharge "
        "from the same hospital, not planned / all stays.",
    )
    readmission_long = strawberry.enum_value(
        "readmission_long", description="The same within signalReadmissionLongDays (31)."
    )
    mcc_cc = strawberry.enum_value(
        "mcc_cc",
        description="Cases in a DRG with MCC or CC (code ending in 1 or 3) / cases in split ADRGs (more than one DRG).",
    )
    error_prone = strawberry.enum_value(
        "error_prone",
        description="Cases in the policy's error-prone DRGs (signalErrorProneDrgs) / cases in those DRGs' ADRGs.",
    )
    own_pay = strawberry.enum_value("own_pay", description="自费: own-pay / total cost, in yuan.")


@strawberry.enum(description="Which way a hospital's share stands out among its peers.")
class SignalFlag(Enum):
    high = strawberry.enum_value("high", description="At or above signalHighPercentile (80) of the peers.")
    low = strawberry.enum_value("low", description="At or below signalLowPercentile (20) of the peers.")


@strawberry.enum(description="Whom a hospital is compared with: hospitals of its level in its region, or in the city.")
class SignalPeers(Enum):
    region = strawberry.enum_value("region", description="A region's run: the region's hospitals of the same level.")
    city = strawberry.enum_value("city", description="A city's run: the city's hospitals of the same level.")


@strawberry.enum(description="A case feature of the anomaly model.")
class AnomalyFeature(Enum):
    cost_ratio = strawberry.enum_value("cost_ratio", description="Total cost / the DRG's average cost (standard).")
    los_ratio = strawberry.enum_value("los_ratio", description="LOS / the DRG's mean LOS over the run's cases.")
    mcc_count = strawberry.enum_value("mcc_count", description="MCCs the grouper counted.")
    cc_count = strawberry.enum_value("cc_count", description="CCs the grouper counted.")
    complication_mix = strawberry.enum_value("complication_mix", description="MCCs / (MCCs + CCs), 0 without.")
    readmission_gap = strawberry.enum_value(
        "readmission_gap", description="Days since the patient's previous discharge (capped; the cap when none)."
    )
    drug_share = strawberry.enum_value("drug_share", description="Drug charges / total cost.")
    materials_share = strawberry.enum_value("materials_share", description="Medical materials / total cost.")
    exam_lab_share = strawberry.enum_value("exam_lab_share", description="Examination + laboratory / total cost.")
    own_pay_share = strawberry.enum_value("own_pay_share", description="Own-pay / total cost.")


@strawberry.type(description="A hospital's share in one target area and year.")
class SignalYear:
    year: int
    value: Decimal = strawberry.field(description="numerator / denominator, 4 places.")
    numerator: Decimal
    denominator: Decimal
    cases: int = strawberry.field(description="The cases behind the numerator.")
    peers: int = strawberry.field(description="Hospitals of the level with a value (this one included).")
    percentile: Decimal | None = strawberry.field(
        description="(rank − 1) / (peers − 1) × 100 by value ascending, ties sharing the lowest rank, 2 places: 0 the "
        "lowest, 100 the highest. Null without a peer."
    )
    flag: SignalFlag | None = strawberry.field(description="Null: not flagged (or fewer than signalMinPeers peers).")

    @classmethod
    def of(cls, r: Any) -> SignalYear:
        return cls(
            year=r.year,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            cases=r.cases,
            peers=r.peers,
            percentile=r.percentile,
            flag=SignalFlag(r.flag) if r.flag else None,
        )


@strawberry.type(description="A hospital's signal in one target area for the run's year, with its history.")
class HospitalSignal(SignalYear):
    tenant_code: str
    hospital: str
    run_id: uuid.UUID = strawberry.field(description="The signals run (its databaseId).")
    area: SignalArea
    level: int = strawberry.field(description="The hospital's level (1-3): its peers are of the same level.")
    peer_scope: SignalPeers
    trend: Decimal | None = strawberry.field(
        description="The value less the value of the hospital's first year in the run's years (null in that year)."
    )
    priority: Decimal | None = strawberry.field(
        description="Audit-queue priority when flagged: |percentile − 50| / 50 × cases, 4 places."
    )
    history: list[SignalYear] = strawberry.field(description="The run's years for this area, oldest first.")

    @classmethod
    def of_signal(cls, sig: Any, peers: str) -> HospitalSignal:
        r = sig.row
        return cls(
            **vars(SignalYear.of(r)),
            tenant_code=r.tenant_id,
            hospital=r.hospital_id,
            run_id=r.run_id,
            area=SignalArea(r.area),
            level=r.level,
            peer_scope=SignalPeers(peers),
            trend=r.trend,
            priority=r.priority,
            history=[SignalYear.of(h) for h in sig.history],
        )


@strawberry.type(description="A feature that drove a case's anomaly score, against its DRG's median.")
class AnomalyDriver:
    feature: AnomalyFeature
    value: Decimal = strawberry.field(description="The case's value (4 places).")
    peer_median: Decimal = strawberry.field(description="The median of the case's DRG in the run (4 places).")


@strawberry.type(description="A case's anomaly score in the latest anomaly run of its year.")
class CaseAnomaly:
    tenant_code: str
    hospital: str
    run_id: uuid.UUID = strawberry.field(description="The anomaly run (its databaseId).")
    case_id: int = strawberry.field(description="The case's databaseId.", deprecation_reason=node.CASE_ID_DEPRECATED)
    case_node_id: strawberry.ID = strawberry.field(
        description="The Case's global id (Case.id), as `node(id:)` and `cases(case:)` take it."
    )
    list_id: str = strawberry.field(description="The settlement list's id (结算清单号).")
    drg: str
    score: Decimal = strawberry.field(
        description="0-100, 2 places: 100 × the IsolationForest's anomaly score (about 50 ordinary, towards 100 "
        "isolated)."
    )
    rank: int = strawberry.field(description="1 = the most unusual case of the run.")
    drivers: list[AnomalyDriver] = strawberry.field(
        description="The three features with the largest |robust z| against the case's DRG, (x − median) / (IQR / "
        "1.349), the largest first."
    )

    @classmethod
    def of(cls, r: Any) -> CaseAnomaly:
        return cls(
            tenant_code=r.tenant_id,
            hospital=r.hospital_id,
            run_id=r.run_id,
            case_id=r.case_id,
            case_node_id=node.global_id("Case", r.tenant_id, r.case_id),
            list_id=r.list_id,
            drg=r.drg,
            score=r.score,
            rank=r.rank,
            drivers=[
                AnomalyDriver(
                    feature=AnomalyFeature(getattr(r, f"driver_{k}")),
                    value=getattr(r, f"driver_{k}_value"),
                    peer_median=getattr(r, f"driver_{k}_median"),
                )
                for k in (1, 2, 3)
            ],
        )


@strawberry.type(description="A hospital's cases in the latest anomaly run of the year.")
class HospitalAnomaly:
    tenant_code: str
    hospital: str
    run_id: uuid.UUID
    cases: int
    mean_score: Decimal = strawberry.field(description="The mean of its cases' scores, 2 places.")
    top_decile_cases: int = strawberry.field(description="Its cases among the run's top decile (rank ≤ ⌈n / 10⌉).")
    top_decile_share: Decimal = strawberry.field(description="top_decile_cases / cases, 4 places.")
    rank: int = strawberry.field(description="1 = the highest mean score of the run.")

    @classmethod
    def of(cls, r: Any) -> HospitalAnomaly:
        return cls(
            tenant_code=r.tenant_id,
            hospital=r.hospital_id,
            run_id=r.run_id,
            cases=r.cases,
            mean_score=r.mean_score,
            top_decile_cases=r.top_decile_cases,
            top_decile_share=r.top_decile_share,
            rank=r.rank,
        )


# ---- job results and payloads ----------------------------------------------------------------------


@strawberry.type(description="What a signals run (signals.run) produced.")
class SignalsJobResult:
    signal_run_id: uuid.UUID = strawberry.field(description="The signals run's databaseId.")
    year: int
    first_year: int = strawberry.field(description="The first year of the run's window (the trend's base).")
    peers: SignalPeers
    regions: int
    hospitals: int = strawberry.field(description="Hospitals with at least one signal.")
    rows: int = strawberry.field(description="Signals stored (hospital × area × year).")
    flagged: int = strawberry.field(description="Flagged signals of the run's year.")

    @classmethod
    def of(cls, r: dict[str, Any]) -> SignalsJobResult:
        return cls(
            signal_run_id=uuid.UUID(str(r["signal_run"])),
            year=int(r["year"]),
            first_year=int(r["first_year"]),
            peers=SignalPeers(r["peers"]),
            regions=int(r["regions"]),
            hospitals=int(r["hospitals"]),
            rows=int(r["rows"]),
            flagged=int(r["flagged"]),
        )


@strawberry.type(description="What an anomaly run (anomaly.run) produced.")
class AnomalyJobResult:
    anomaly_run_id: uuid.UUID = strawberry.field(description="The anomaly run's databaseId.")
    year: int
    peers: SignalPeers = strawberry.field(description="region: one region's model; city: one over the city.")
    regions: int
    cases: int = strawberry.field(description="Cases the model was fitted on and scored.")
    seed: int = strawberry.field(description="The model's seed (signalAnomalySeed): same cases and seed, same scores.")

    @classmethod
    def of(cls, r: dict[str, Any]) -> AnomalyJobResult:
        return cls(
            anomaly_run_id=uuid.UUID(str(r["anomaly_run"])),
            year=int(r["year"]),
            peers=SignalPeers(r["peers"]),
            regions=int(r["regions"]),
            cases=int(r["cases"]),
            seed=int(r["seed"]),
        )


job_results.register(SIGNALS, SignalsJobResult, SignalsJobResult.of)
job_results.register(ANOMALY, AnomalyJobResult, AnomalyJobResult.of)


@strawberry.type(description="The signals job (signals.run) started: poll job(id) for its status.")
class SignalsJobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")


@strawberry.type(description="The anomaly job (anomaly.run) started: poll job(id) for its status.")
class AnomalyJobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")
