from __future__ import annotations

from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from dianshu.tenancy import models
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu_graphql import node
from dianshu_graphql.loaders import tenant_loader
from dianshu_graphql.types import job_results


@strawberry.enum(description="A city (the bureau's own tenant) or one of its pooling regions.")
class TenantKind(Enum):
    city = "city"
    region = "region"


@strawberry.enum(description="general 综合, tcm 中医, specialist 专科.")
class HospitalType(Enum):
    general = "general"
    tcm = "tcm"
    specialist = "specialist"


@strawberry.type(description="A city or one of its pooling regions (统筹区), by administrative code.")
class Tenant(node.Node):
    id: strawberry.ID
    code: strawberry.ID = strawberry.field(description="The administrative code: what every `tenant` argument takes.")
    name: str
    kind: TenantKind
    parent_code: str | None

    @classmethod
    def of(cls, t: models.Tenant) -> Tenant:
        return cls(
            id=node.global_id("Tenant", t.code),
            code=strawberry.ID(t.code),
            name=t.name,
            kind=TenantKind(t.kind),
            parent_code=t.parent_code,
        )


@strawberry.type(description="A designated hospital of one region.")
class Hospital(node.Node):
    id: strawberry.ID
    tenant_code: str
    code: strawberry.ID = strawberry.field(description="National designated-institution code.")
    name: str
    level: int = strawberry.field(description="1 一级, 2 二级, 3 三级")
    type: HospitalType
    coefficient: Decimal = strawberry.field(description="差异系数 (differential coefficient), 4 places.")
    alliance_code: str | None

    @strawberry.field
    async def tenant(self, info: Info) -> Tenant | None:
        t = await info.context.loader("tenant", tenant_loader).load(self.tenant_code)
        return Tenant.of(t) if t else None

    @classmethod
    def of(cls, h: models.Hospital) -> Hospital:
        return cls(
            id=node.global_id("Hospital", h.tenant_id, h.id),
            tenant_code=h.tenant_id,
            code=strawberry.ID(h.id),
            name=h.name,
            level=h.level,
            type=HospitalType(h.type),
            coefficient=h.coefficient,
            alliance_code=h.alliance_id,
        )


@strawberry.input
class HospitalInput:
    code: str
    name: str
    level: int
    type: HospitalType
    coefficient: Decimal = Decimal("1.0")
    alliance_code: str | None = None

    def as_row(self) -> dict:
        return {
            "id": self.code,
            "name": self.name,
            "level": self.level,
            "type": self.type.value,
            "coefficient": str(self.coefficient),
            "alliance_id": self.alliance_code,
        }


@strawberry.input
class ImportHospitalsInput:
    tenant: str
    hospitals: list[HospitalInput]
    idempotency_key: str | None = strawberry.field(
        default=None, description="Same key + same content: the existing job; other content: refused."
    )


@strawberry.type(description="What a roster import (tenancy.import_hospitals) did.")
class ImportHospitalsJobResult:
    rows: int
    inserted: int
    updated: int
    unchanged: int

    @classmethod
    def of(cls, r: dict) -> ImportHospitalsJobResult:
        return cls(
            rows=int(r["rows"]), inserted=int(r["inserted"]), updated=int(r["updated"]), unchanged=int(r["unchanged"])
        )


job_results.register(IMPORT_HOSPITALS, ImportHospitalsJobResult, ImportHospitalsJobResult.of)
