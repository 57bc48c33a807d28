from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from dianshu.grouping.records import GroupResult
from dianshu.standards import models
from dianshu.standards.jobs import CALIBRATE
from dianshu_graphql import node
from dianshu_graphql.types import job_results
from dianshu_graphql.types.codes import CodeEdition


@strawberry.enum(description="draft (still changing), published (immutable, may be in force), retired.")
class VersionStatus(Enum):
    draft = "draft"
    published = "published"
    retired = "retired"


@strawberry.type(description="An MDC whose entry condition a scheme version replaces.")
class MdcEntryOverride:
    mdc: str
    condition: str = strawberry.field(description="The entry condition, in the tables' vocabulary.")


@strawberry.type(description="How a scheme version's grouper decides what its tables leave open.")
class GrouperOptions:
    icu_first: bool = strawberry.field(description="ICU stays enter the ICU groups before the MDCs.")
    icu_min_hours: Decimal = strawberry.field(description="ICU hours from which the ICU rule applies.")
    qy_enabled: bool = strawberry.field(description="Ambiguous records are grouped to xQY groups.")
    mdc_entry_overrides: list[MdcEntryOverride]

    @classmethod
    def of(cls, d: dict[str, Any] | None) -> GrouperOptions:
        from dianshu.grouping.engine import GrouperOptions as Options

        o = Options.from_dict(d or {})
        return cls(
            icu_first=o.icu_first,
            icu_min_hours=Decimal(str(o.icu_min_hours)),
            qy_enabled=o.qy_enabled,
            mdc_entry_overrides=[MdcEntryOverride(mdc=m, condition=c) for m, c in o.mdc_entry_overrides],
        )


@strawberry.type(description="A version of a grouping scheme (CHS-DRG 1.1, ZJ-DRG 2022, ...).")
class StandardVersion(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID = strawberry.field(description="The version's own id (what version arguments took before).")
    scheme: str
    label: str
    status: VersionStatus
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    mdc_count: int
    adrg_count: int
    drg_count: int
    content_hash: str
    options: GrouperOptions = strawberry.field(description="Grouper options: ICU rule, HIV entry, ambiguous groups.")
    published_at: datetime.datetime | None

    @classmethod
    def of(cls, v: models.DrgSchemeVersion) -> StandardVersion:
        return cls(
            id=node.global_id("StandardVersion", v.id),
            database_id=v.id,
            scheme=v.scheme_code,
            label=v.label,
            status=VersionStatus(v.status),
            effective_from=v.effective_from,
            effective_to=v.effective_to,
            mdc_count=v.mdc_count,
            adrg_count=v.adrg_count,
            drg_count=v.drg_count,
            content_hash=v.content_hash,
            options=GrouperOptions.of(v.options),
            published_at=v.published_at,
        )


@strawberry.type(description="One DRG of a scheme version.")
class Drg(node.Node):
    id: strawberry.ID
    version_id: uuid.UUID = strawberry.field(description="The scheme version's databaseId.")
    code: strawberry.ID
    name: str
    adrg: str | None
    mdc: str | None
    condition: str | None = strawberry.field(description="The split condition, in the tables' vocabulary.")

    @classmethod
    def of(cls, g: models.DrgGroup, mdc: str | None) -> Drg:
        return cls(
            id=node.global_id("Drg", g.version_id, g.drg),
            version_id=g.version_id,
            code=strawberry.ID(g.drg),
            name=g.name,
            adrg=g.adrg,
            mdc=mdc,
            condition=g.condition,
        )


@strawberry.type(description="A DRG's parameters in a city's payment standard (points as decimal strings).")
class DrgParameters(node.Node):
    id: strawberry.ID
    standard_id: uuid.UUID = strawberry.field(description="The payment standard's databaseId.")
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
            id=node.global_id("DrgParameters", p.standard_id, p.drg),
            standard_id=p.standard_id,
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


@strawberry.enum(description="Where a payment standard's parameters come from.")
class PaymentStandardSource(Enum):
    calibration = strawberry.enum_value("calibration", description="Calibrated here from history years (测算).")
    imported = strawberry.enum_value("import", description="Imported as published by the bureau.")


@strawberry.type(description="A city's payment standard: a scheme version and per-DRG parameters.")
class PaymentStandard(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID = strawberry.field(
        description="The standard's own id (what standard arguments took before)."
    )
    tenant_code: str = strawberry.field(description="The city whose standard it is.")
    label: str
    status: VersionStatus
    scheme_version_id: strawberry.ID = strawberry.field(description="The scheme version's databaseId.")
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    avg_cost_all: Decimal
    source: PaymentStandardSource
    parameters: CalibrationParameters | None = strawberry.field(
        description="How it was calibrated (null for a standard that was not calibrated here)."
    )

    @classmethod
    def of(cls, p: models.PaymentStandard) -> PaymentStandard:
        return cls(
            id=node.global_id("PaymentStandard", p.id),
            database_id=p.id,
            tenant_code=p.city_code,
            label=p.label,
            status=VersionStatus(p.status),
            scheme_version_id=strawberry.ID(str(p.scheme_version_id)),
            effective_from=p.effective_from,
            effective_to=p.effective_to,
            avg_cost_all=p.avg_cost_all,
            source=PaymentStandardSource(p.source),
            parameters=CalibrationParameters.of(p.parameters),
        )


@strawberry.type(description="A history year's weight in a calibration.")
class YearWeight:
    year: int
    weight: Decimal


@strawberry.type(description="The parameters and counts of a calibration from history years.")
class CalibrationParameters:
    years: list[int]
    year_weights: list[YearWeight]
    iqr_k: Decimal = strawberry.field(description="Outliers beyond k × IQR are trimmed.")
    min_cases: int = strawberry.field(description="A DRG is stable with more than this many trimmed stays.")
    max_cv: Decimal = strawberry.field(description="... and a coefficient of variation at most this.")
    bed_day_prefixes: list[str]
    stays: int
    stays_trimmed: int
    ungrouped: int

    @classmethod
    def of(cls, p: dict[str, Any] | None) -> CalibrationParameters | None:
        if not p or "years" not in p:
            return None
        weights = p.get("year_weights") or {}
        return cls(
            years=[int(y) for y in p["years"]],
            year_weights=[YearWeight(year=int(y), weight=Decimal(str(w))) for y, w in sorted(weights.items())],
            iqr_k=Decimal(str(p["iqr_k"])),
            min_cases=int(p["min_cases"]),
            max_cv=Decimal(str(p["max_cv"])),
            bed_day_prefixes=[str(x) for x in p.get("bed_day_prefixes") or []],
            stays=int(p.get("stays") or 0),
            stays_trimmed=int(p.get("stays_trimmed") or 0),
            ungrouped=int(p.get("ungrouped") or 0),
        )


@strawberry.type(description="What a calibration (standards.calibrate) produced: a draft payment standard.")
class CalibrationJobResult:
    payment_standard_id: uuid.UUID = strawberry.field(description="The draft standard's databaseId.")
    avg_cost_all: Decimal
    drgs: int
    stable: int
    stays: int
    trimmed: int
    ungrouped: int
    drgs_without_stays: int

    @classmethod
    def of(cls, r: dict[str, Any]) -> CalibrationJobResult:
        return cls(
            payment_standard_id=uuid.UUID(str(r["payment_standard"])),
            avg_cost_all=Decimal(str(r["avg_cost_all"])),
            drgs=int(r["drgs"]),
            stable=int(r["stable"]),
            stays=int(r["stays"]),
            trimmed=int(r["trimmed"]),
            ungrouped=int(r["ungrouped"]),
            drgs_without_stays=int(r["drgs_without_stays"]),
        )


job_results.register(CALIBRATE, CalibrationJobResult, CalibrationJobResult.of)


@strawberry.enum(description="error (the record cannot be grouped as sent), warning, info.")
class MessageLevel(Enum):
    error = "error"
    warning = "warning"
    info = "info"


@strawberry.enum(description="grouped (a DRG), ungroupable (0000), ambiguous (an xQY group).")
class GroupingStatus(Enum):
    grouped = "grouped"
    ungroupable = "ungroupable"
    ambiguous = "ambiguous"


@strawberry.type(description="Something the grouper says about a record: a refused code, a rule it applied...")
class GroupMessage:
    level: MessageLevel
    field: str
    text: str


@strawberry.type(description="The grouper's answer for one record.")
class Grouping:
    record_id: str = strawberry.field(description="The record's id as sent (a draft's, or the case's list id).")
    scheme: str
    version_label: str
    mdc: str | None
    adrg: str | None
    drg: str
    drg_name: str | None
    status: GroupingStatus
    diagnoses: list[str] = strawberry.field(description="The 医保版 codes grouped on.")
    procedures: list[str]
    mcc: list[str]
    cc: list[str]
    messages: list[GroupMessage]
    trace: list[str] | None

    @classmethod
    def of(cls, r: GroupResult, scheme: str, label: str) -> Grouping:
        return cls(
            record_id=r.id,
            scheme=scheme,
            version_label=label,
            mdc=r.mdc,
            adrg=r.adrg,
            drg=r.drg,
            drg_name=r.drg_name,
            status=GroupingStatus(r.status),
            diagnoses=list(r.diagnoses),
            procedures=list(r.procedures),
            mcc=list(r.mcc),
            cc=list(r.cc),
            messages=[GroupMessage(level=MessageLevel(m.level), field=m.field, text=m.text) for m in r.messages],
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
    coding: CodeEdition = CodeEdition.yibao
