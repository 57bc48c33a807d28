"""GraphQL types of the evaluation catalogue (考核指标目录): its versions, dimensions and indicators,
and the indicator values a bureau enters per hospital and year."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import Enum

import strawberry

from dianshu.evaluation import catalogue as domain
from dianshu.evaluation.models import EvaluationCatalogueVersion as VersionRow
from dianshu.evaluation.models import EvaluationEntry as EntryRow
from dianshu_graphql import node
from dianshu_graphql.types.standards import VersionStatus


@strawberry.enum(description="Which way an indicator is favourable.")
class IndicatorDirection(Enum):
    higher = strawberry.enum_value("higher", description="Higher is better (越高越好).")
    lower = strawberry.enum_value("lower", description="Lower is better (越低越好).")


@strawberry.enum(description="Where an indicator's value comes from.")
class IndicatorSource(Enum):
    cases = strawberry.enum_value("cases", description="The settlement lists (病例).")
    grouping = strawberry.enum_value("grouping", description="The grouping results (分组).")
    points = strawberry.enum_value("points", description="The points runs (点数).")
    findings = strawberry.enum_value("findings", description="Confirmed supervision findings (监管发现).")
    reviews = strawberry.enum_value("reviews", description="Special reviews (特病单议).")
    training = strawberry.enum_value(
        "training", description="Training records; entered per hospital and year until they exist (培训)."
    )
    entered = strawberry.enum_value("entered", description="Entered by the bureau per hospital and year (填报).")


@strawberry.enum(description="An indicator's unit.")
class IndicatorUnit(Enum):
    index = "index"
    count = "count"
    percent = strawberry.enum_value("percent", description="0 to 100.")
    ratio = "ratio"
    points = "points"
    days = "days"
    score = strawberry.enum_value("score", description="0 to 100.")
    per_mille = strawberry.enum_value("per_mille", description="Per 1000 cases (‰).")


@strawberry.enum(description="Whether an indicator is scored.")
class IndicatorStatus(Enum):
    active = strawberry.enum_value("active", description="Scored, with its weight in its dimension (计分).")
    monitor = strawberry.enum_value("monitor", description="Computed and shown, weight 0 (监测).")


@strawberry.type(description="One of the evaluation's six dimensions.")
class EvaluationDimension:
    code: str
    name_zh: str
    name_en: str
    weight: Decimal = strawberry.field(description="Its weight in the total score (the dimensions' sum to 100).")

    @classmethod
    def of(cls, d: domain.Dimension) -> EvaluationDimension:
        return cls(code=d.code, name_zh=d.name_zh, name_en=d.name_en, weight=d.weight)


@strawberry.type(description="One indicator of the catalogue.")
class EvaluationIndicator:
    code: str = strawberry.field(description="A01 ... F08.")
    dimension: str = strawberry.field(description="Its dimension's code.")
    name_zh: str
    name_en: str
    computation: str = strawberry.field(description="The name of its computation (or of its entered value).")
    direction: IndicatorDirection
    source: IndicatorSource
    unit: IndicatorUnit
    weight: Decimal = strawberry.field(description="Its weight within its dimension (0 when monitor-only).")
    status: IndicatorStatus
    formula_zh: str = strawberry.field(description="The formula in words (Chinese).")
    formula_en: str = strawberry.field(description="The formula in words (English).")
    entered: bool = strawberry.field(
        description="Entered per hospital and year (enterEvaluationIndicator), not computed from the data."
    )

    @classmethod
    def of(cls, i: domain.Indicator) -> EvaluationIndicator:
        return cls(
            code=i.code,
            dimension=i.dimension,
            name_zh=i.name_zh,
            name_en=i.name_en,
            computation=i.computation,
            direction=IndicatorDirection(i.direction),
            source=IndicatorSource(i.source),
            unit=IndicatorUnit(i.unit),
            weight=i.weight,
            status=IndicatorStatus(i.status),
            formula_zh=i.formula_zh,
            formula_en=i.formula_en,
            entered=i.entered,
        )


@strawberry.type(description="A version of the evaluation catalogue (city-wide reference data).")
class EvaluationCatalogueVersion(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID
    label: str
    status: VersionStatus
    effective_from: int | None = strawberry.field(description="The first year it is in force (once published).")
    effective_to: int | None = strawberry.field(description="The first year it is no longer in force (null: open).")
    indicator_count: int
    content_hash: str = strawberry.field(description="sha256 of its content: the same content is the same version.")
    loaded_at: datetime.datetime
    published_at: datetime.datetime | None

    @classmethod
    def of(cls, v: VersionRow) -> EvaluationCatalogueVersion:
        return cls(
            id=node.global_id("EvaluationCatalogueVersion", v.id),
            database_id=v.id,
            label=v.label,
            status=VersionStatus(v.status),
            effective_from=v.effective_from,
            effective_to=v.effective_to,
            indicator_count=v.indicator_count,
            content_hash=v.content_hash,
            loaded_at=v.loaded_at,
            published_at=v.published_at,
        )


@strawberry.type(description="The catalogue of a version: its dimensions and indicators in catalogue order.")
class EvaluationCatalogue:
    version: EvaluationCatalogueVersion
    dimensions: list[EvaluationDimension]
    indicators: list[EvaluationIndicator]

    @classmethod
    def of(cls, v: VersionRow, c: domain.Catalogue) -> EvaluationCatalogue:
        return cls(
            version=EvaluationCatalogueVersion.of(v),
            dimensions=[EvaluationDimension.of(d) for d in c.dimensions],
            indicators=[EvaluationIndicator.of(i) for i in c.indicators],
        )


@strawberry.type(description="An indicator value entered for a hospital and year, with who entered it.")
class EvaluationEntry:
    tenant_code: str
    hospital: str
    year: int
    code: str = strawberry.field(description="The indicator's code.")
    value: Decimal = strawberry.field(
        description="The value in the indicator's unit; for E02 the count of complaints in the year."
    )
    note: str
    entered_by: str
    entered_at: datetime.datetime

    @classmethod
    def of(cls, e: EntryRow) -> EvaluationEntry:
        return cls(
            tenant_code=e.tenant_id,
            hospital=e.hospital_id,
            year=e.year,
            code=e.code,
            value=e.value,
            note=e.note,
            entered_by=e.entered_by,
            entered_at=e.entered_at,
        )


@strawberry.type(description="The catalogue version as it is now.")
class EvaluationCatalogueVersionPayload:
    version: EvaluationCatalogueVersion
    created: bool = strawberry.field(description="Whether this call stored or changed it (false: a retry).")


@strawberry.type(description="The entry as it is now.")
class EvaluationEntryPayload:
    entry: EvaluationEntry
    changed: bool = strawberry.field(description="Whether this call wrote it (false: the same value was there).")


@strawberry.input(description="An indicator value for a hospital and year (the bureau enters it).")
class EnterEvaluationIndicatorInput:
    tenant: str = strawberry.field(description="The hospital's region.")
    hospital: str
    year: int
    code: str = strawberry.field(
        description="An indicator of the catalogue in force for the year whose source is entered or training."
    )
    value: Decimal = strawberry.field(
        description="At most 4 decimal places; percent and score 0 to 100; E02 (complaints per 1000) the COUNT of "
        "complaints in the year, a whole number (the per-1000 figure is computed at scoring from the cases)."
    )
    note: str = strawberry.field(default="", description="Where the figure comes from (a survey, an audit sample).")
