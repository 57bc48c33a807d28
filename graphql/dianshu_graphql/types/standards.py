from __future__ import annotations

import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from dianshu.grouping.records import GroupResult
from dianshu.standards import models


@strawberry.enum
class VersionStatus(Enum):
    draft = "draft"
    published = "published"
    retired = "retired"


@strawberry.type(description="A version of a grouping scheme (CHS-DRG 1.1, ZJ-DRG 2022, ...).")
class StandardVersion:
    id: strawberry.ID
    scheme: str
    label: str
    status: VersionStatus
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    mdc_count: int
    adrg_count: int
    drg_count: int
    content_hash: str
    options: JSON = strawberry.field(description="Grouper options: ICU rule, HIV entry, ambiguous groups.")
    published_at: datetime.datetime | None

    @classmethod
    def of(cls, v: models.DrgSchemeVersion) -> StandardVersion:
        return cls(
            id=strawberry.ID(str(v.id)),
            scheme=v.scheme_code,
            label=v.label,
            status=VersionStatus(v.status),
            effective_from=v.effective_from,
            effective_to=v.effective_to,
            mdc_count=v.mdc_count,
            adrg_count=v.adrg_count,
            drg_count=v.drg_count,
            content_hash=v.content_hash,
            options=v.options,
            published_at=v.published_at,
        )


@strawberry.type(description="One DRG of a scheme version.")
class Drg:
    code: strawberry.ID
    name: str
    adrg: str | None
    mdc: str | None
    condition: str | None = strawberry.field(description="The split condition, in the tables' vocabulary.")


@strawberry.type(description="A DRG's parameters in a city's payment standard (points as decimal strings).")
class DrgParameters:
    drg: str
    cases: int
    avg_cost: Decimal
    base_points: Decimal
    avg_los: Decimal | None
    cv: Decimal | None
    stable: bool
    base_group: bool
    bed_day: bool
    base_points_per_day: Decimal | None
    tcm: bool

    @classmethod
    def of(cls, p: models.PaymentStandardDrg) -> DrgParameters:
        return cls(
            drg=p.drg,
            cases=p.cases,
            avg_cost=p.avg_cost,
            base_points=p.base_points,
            avg_los=p.avg_los,
            cv=p.cv,
            stable=p.stable,
            base_group=p.base_group,
            bed_day=p.bed_day,
            base_points_per_day=p.base_points_per_day,
            tcm=p.tcm,
        )


@strawberry.type(description="A city's payment standard: a scheme version and per-DRG parameters.")
class PaymentStandard:
    id: strawberry.ID
    city_code: str
    label: str
    status: VersionStatus
    scheme_version_id: strawberry.ID
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    avg_cost_all: Decimal
    source: str
    parameters: JSON

    @classmethod
    def of(cls, p: models.PaymentStandard) -> PaymentStandard:
        return cls(
            id=strawberry.ID(str(p.id)),
            city_code=p.city_code,
            label=p.label,
            status=VersionStatus(p.status),
            scheme_version_id=strawberry.ID(str(p.scheme_version_id)),
            effective_from=p.effective_from,
            effective_to=p.effective_to,
            avg_cost_all=p.avg_cost_all,
            source=p.source,
            parameters=p.parameters,
        )


@strawberry.type
class GroupMessage:
    level: str
    field: str
    text: str


@strawberry.type(description="The grouper's answer for one record.")
class Grouping:
    id: str
    scheme: str
    version_label: str
    mdc: str | None
    adrg: str | None
    drg: str
    drg_name: str | None
    status: str = strawberry.field(description="grouped | ungroupable (0000) | ambiguous (xQY)")
    diagnoses: list[str] = strawberry.field(description="The 医保版 codes grouped on.")
    procedures: list[str]
    mcc: list[str]
    cc: list[str]
    messages: list[GroupMessage]
    trace: list[str] | None

    @classmethod
    def of(cls, r: GroupResult, scheme: str, label: str) -> Grouping:
        return cls(
            id=r.id,
            scheme=scheme,
            version_label=label,
            mdc=r.mdc,
            adrg=r.adrg,
            drg=r.drg,
            drg_name=r.drg_name,
            status=r.status,
            diagnoses=list(r.diagnoses),
            procedures=list(r.procedures),
            mcc=list(r.mcc),
            cc=list(r.cc),
            messages=[GroupMessage(level=m.level, field=m.field, text=m.text) for m in r.messages],
            trace=r.trace,
        )


@strawberry.input(description="A (draft) case to group: the settlement-list fields the grouper reads.")
class DraftCaseInput:
    id: str = "draft"
    sex: int | None = None
    age_years: int | None = None
    age_days: int | None = None
    birth_weight_g: int | None = None
    los_days: int | None = None
    discharge_way: int | None = None
    diagnoses: list[str] = strawberry.field(default_factory=list, description="Principal first.")
    procedures: list[str] = strawberry.field(default_factory=list, description="Principal first.")
    vent_hours: float | None = None
    icu_hours: float | None = None
    dept: str | None = None
    coding: str = strawberry.field(default="yibao", description="yibao (医保版) or guolin (国临版)")
