"""The doctor-workstation check's GraphQL types: the draft as input, the answer as a typed result."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from enum import Enum

import strawberry

from dianshu.workstation import check as domain
from dianshu_graphql.types.standards import Grouping

WarningCode = strawberry.enum(
    Enum("WarningCode", {c.name: c.value for c in domain.WarningCode}),  # type: ignore[misc]
    description=(
        "What a workstation warning is about: HIGH_OUTLIER (the cost so far is above the DRG's high-outlier "
        "threshold), PROJECTED_HIGH_OUTLIER (the projected cost will be), READMISSION (within the policy's "
        "readmission days of the patient's last discharge), GREY_CODE, INVALID_CODE, INVALID_PRINCIPAL (a code that "
        "may not be the principal diagnosis), UNGROUPABLE (0000 or an ambiguous xQY group), ITEMIZED (the DRG is "
        "paid by item), MISSING_BIRTH_WEIGHT, MISSING_AGE_DAYS, MISSING_VENT_HOURS, VENT_HOURS_MISMATCH, "
        "MISSING_PROCEDURE (missing data that would change the group), NO_POINT_VALUE (no expected payment)."
    ),
)
WarningSeverity = strawberry.enum(
    Enum("WarningSeverity", {s.name: s.value for s in domain.Severity}),  # type: ignore[misc]
    description="warning: the group or the money changes, look before discharge; info: for the record.",
)


@strawberry.input(
    description=(
        "A draft case before discharge (事前) or during the stay (诊间): the settlement-list fields a HIS has. "
        "Read strictly: codes shape-checked, ranges checked, refusals name the field (draft.<field>)."
    )
)
class WorkstationDraftInput:
    patient_id: str = strawberry.field(description="The patient (psn_no, pseudonymised): the readmission check.")
    age_years: int = strawberry.field(description="Whole years at admission, 0 to 150.")
    admission_time: str = strawberry.field(description="YYYY-MM-DD HH:MM[:SS].")
    diagnoses: list[str] = strawberry.field(description="Principal first, 1 to 50 codes.")
    fund_type: str = strawberry.field(description="employee (职工) or resident (居民).")
    list_id: str | None = strawberry.field(default=None, description="The settlement list id, when there is one.")
    sex: int | None = strawberry.field(default=None, description="1 male, 2 female (0, 9: unknown).")
    age_days: int | None = strawberry.field(default=None, description="Age in days, under one year (0 to 365).")
    birth_weight_g: int | None = strawberry.field(default=None, description="Newborn birth weight (g).")
    admit_weight_g: int | None = strawberry.field(default=None, description="Newborn admission weight (g).")
    discharge_time: str | None = strawberry.field(
        default=None, description="The (expected) discharge time; this or daysSoFar is required."
    )
    days_so_far: int | None = strawberry.field(default=None, description="Days in hospital so far.")
    admit_dept: str | None = None
    discharge_dept: str | None = strawberry.field(default=None, description="'ICU' for intensive care.")
    discharge_way: int | None = strawberry.field(default=None, description="离院方式 1-5, 9, when known.")
    readmit_planned: bool | None = strawberry.field(default=None, description="A planned readmission (31-day flag).")
    coding: str | None = strawberry.field(default=None, description="yibao (医保版, default) or guolin (国临版).")
    procedures: list[str] | None = strawberry.field(default=None, description="Principal first, up to 50 codes.")
    vent_hours: Decimal | None = strawberry.field(default=None, description="Invasive ventilation hours.")
    icu_hours: Decimal | None = None
    charges: list[Decimal] | None = strawberry.field(
        default=None, description="The 14 national charge categories so far (床位费 … 其他费), yuan."
    )
    total_cost: Decimal | None = strawberry.field(
        default=None, description="The cost so far (yuan); with charges it must equal their sum."
    )


@strawberry.type(description="Something the check warns about, in Chinese and English.")
class WorkstationWarning:
    code: WarningCode  # type: ignore[valid-type]
    severity: WarningSeverity  # type: ignore[valid-type]
    field: str | None = strawberry.field(description="The draft's field concerned (draft.ventHours), if one.")
    message_zh: str
    message_en: str


@strawberry.type(description="The patient's last discharge before this admission (that you may see).")
class WorkstationLastStay:
    list_id: str
    hospital_code: str
    admitted: datetime.datetime
    discharged: datetime.datetime
    drg: str | None


@strawberry.type(
    description=(
        "The workstation check of a draft: the likely DRG with its trace, points under the current policy, the "
        "expected payment at the provisional point value, the cost against the DRG and warnings."
    )
)
class WorkstationCheck:
    hospital_code: str
    tenant_code: str
    year: int
    ledger: str
    standard_label: str = strawberry.field(description="The payment standard the draft is priced on.")
    grouping: Grouping = strawberry.field(description="The likely group with the grouper's trace (every step).")
    drg: str
    drg_name: str | None
    base_points: Decimal | None = strawberry.field(description="b of the DRG (4 places); null when it has none.")
    coefficient: Decimal = strawberry.field(description="The hospital's differential coefficient (1 for base groups).")
    points: Decimal = strawberry.field(description="The case's points under the current policy (4 places).")
    points_type: str = strawberry.field(
        description="normal, high_outlier, low_outlier, incomplete, itemized or bed_day (SPEC section 5)."
    )
    points_reason: str
    point_value: Decimal | None = strawberry.field(description="The provisional point value (yuan per point).")
    point_value_source: str
    expected_payment: Decimal | None = strawberry.field(description="points × point value, to the fen.")
    cost_so_far: Decimal
    projected_cost: Decimal | None = strawberry.field(
        description="cost so far × expected LOS / days so far, when both are known (points are priced on it)."
    )
    avg_cost: Decimal | None = strawberry.field(description="The DRG's average cost in the standard.")
    cost_ratio: Decimal | None = strawberry.field(description="cost so far / average cost (4 places).")
    projected_ratio: Decimal | None
    high_outlier_k: Decimal | None = strawberry.field(description="k(b): the high-outlier multiple of the DRG.")
    high_outlier_threshold: Decimal | None = strawberry.field(description="k × average cost (yuan).")
    los_days: int
    last_stay: WorkstationLastStay | None
    warnings: list[WorkstationWarning]

    @classmethod
    def of(cls, r: domain.CheckResult, field_path: Callable[[str], str]) -> WorkstationCheck:
        last, st = r.last_stay, r.standing
        return cls(
            hospital_code=st.hospital,
            tenant_code=st.tenant,
            year=st.year,
            ledger=st.ledger,
            standard_label=st.standard_label,
            grouping=Grouping.of(r.group, st.grouper.tables.code, st.scheme_label),
            drg=r.group.drg,
            drg_name=r.group.drg_name,
            base_points=r.base_points,
            coefficient=r.coefficient,
            points=r.points.points,
            points_type=r.points.type,
            points_reason=r.points.reason,
            point_value=r.point_value,
            point_value_source=r.point_value_source,
            expected_payment=r.expected_payment,
            cost_so_far=r.cost_so_far,
            projected_cost=r.projected_cost,
            avg_cost=r.avg_cost,
            cost_ratio=r.cost_ratio,
            projected_ratio=r.projected_ratio,
            high_outlier_k=r.k,
            high_outlier_threshold=r.high_outlier_threshold,
            los_days=r.los_days,
            last_stay=None
            if last is None
            else WorkstationLastStay(
                list_id=last.list_id,
                hospital_code=last.hospital,
                admitted=last.admitted,
                discharged=last.discharged,
                drg=last.drg,
            ),
            warnings=[
                WorkstationWarning(
                    code=WarningCode(w.code.value),
                    severity=WarningSeverity(w.severity.value),
                    field=field_path(w.field) if w.field else None,
                    message_zh=w.message_zh,
                    message_en=w.message_en,
                )
                for w in r.warnings
            ],
        )
