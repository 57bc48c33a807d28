from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from dianshu.grouping import models
from dianshu.grouping.service import COMPARE, GROUP_CASES
from dianshu_graphql import node
from dianshu_graphql.types import job_results
from dianshu_graphql.types.standards import GroupingStatus


@strawberry.enum(description="drg (groups) or adrg (core groups): the level a comparison counts at.")
class ComparisonLevel(Enum):
    drg = "drg"
    adrg = "adrg"


@strawberry.type(description="How many cases of a hospital moved from one group to another.")
class Transition:
    hospital_code: str
    from_code: str
    to_code: str
    cases: int


@strawberry.type(description="A case's stored result under one scheme version.")
class CaseGroupingResult(node.Node):
    id: strawberry.ID
    case_id: int = strawberry.field(description="The case's databaseId.", deprecation_reason=node.CASE_ID_DEPRECATED)
    case_node_id: strawberry.ID = strawberry.field(
        description="The Case's global id (Case.id), as `node(id:)` and `cases(case:)` take it."
    )
    version_id: strawberry.ID = strawberry.field(description="The scheme version's databaseId.")
    mdc: str | None
    adrg: str | None
    drg: str
    status: GroupingStatus
    mcc: list[str]
    cc: list[str]

    @classmethod
    def of(cls, r: models.CaseGrouping) -> CaseGroupingResult:
        return cls(
            id=node.global_id("CaseGroupingResult", r.tenant_id, r.case_id, r.version_id),
            case_id=r.case_id,
            case_node_id=node.global_id("Case", r.tenant_id, r.case_id),
            version_id=strawberry.ID(str(r.version_id)),
            mdc=r.mdc,
            adrg=r.adrg,
            drg=r.drg,
            status=GroupingStatus(r.status),
            mcc=list(r.mcc),
            cc=list(r.cc),
        )


@strawberry.type(description="How one scheme version grouped a period's cases.")
class VersionGroupingCounts:
    version_id: uuid.UUID = strawberry.field(description="The scheme version's databaseId.")
    grouped: int
    ungroupable: int
    ambiguous: int


@strawberry.type(description="What grouping a period (grouping.group_cases) did.")
class GroupCasesJobResult:
    cases: int
    from_month: datetime.date = strawberry.field(description="The period's first month (its first day).")
    to_month: datetime.date = strawberry.field(description="The period's last month (its first day).")
    versions: list[VersionGroupingCounts]

    @classmethod
    def of(cls, r: dict[str, Any]) -> GroupCasesJobResult:
        return cls(
            cases=int(r["cases"]),
            from_month=datetime.date.fromisoformat(r["from"]),
            to_month=datetime.date.fromisoformat(r["to"]),
            versions=[
                VersionGroupingCounts(
                    version_id=uuid.UUID(v),
                    grouped=int(c["grouped"]),
                    ungroupable=int(c["ungroupable"]),
                    ambiguous=int(c["ambiguous"]),
                )
                for v, c in r["versions"].items()
            ],
        )


@strawberry.type(description="How far two schemes agree at one level.")
class LevelAgreement:
    level: ComparisonLevel
    cases: int
    same: int = strawberry.field(description="Cases in the same group under both.")
    agreement: Decimal | None = strawberry.field(description="same / cases, 4 places (null without cases).")


@strawberry.type(
    description="What a scheme comparison (grouping.compare) found; the transitions are in groupingComparison."
)
class CompareSchemesJobResult:
    from_month: datetime.date
    to_month: datetime.date
    base: uuid.UUID = strawberry.field(description="The base scheme version's databaseId.")
    other: uuid.UUID
    grouped: GroupCasesJobResult
    by_level: list[LevelAgreement]

    @classmethod
    def of(cls, r: dict[str, Any]) -> CompareSchemesJobResult:
        return cls(
            from_month=datetime.date.fromisoformat(r["from"]),
            to_month=datetime.date.fromisoformat(r["to"]),
            base=uuid.UUID(r["base"]),
            other=uuid.UUID(r["other"]),
            grouped=GroupCasesJobResult.of(r["grouped"]),
            by_level=[
                LevelAgreement(
                    level=ComparisonLevel(level),
                    cases=int(v["cases"]),
                    same=int(v["same"]),
                    agreement=None if v.get("agreement") is None else Decimal(str(v["agreement"])),
                )
                for level, v in sorted(r["by_level"].items())
            ],
        )


job_results.register(GROUP_CASES, GroupCasesJobResult, GroupCasesJobResult.of)
job_results.register(COMPARE, CompareSchemesJobResult, CompareSchemesJobResult.of)
