from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from dianshu.cases import models
from dianshu.cases.ingest import INGEST
from dianshu_graphql import node
from dianshu_graphql.loaders import case_groupings_loader, case_points_loader, hospital_loader
from dianshu_graphql.types import job_results
from dianshu_graphql.types.codes import CodeEdition
from dianshu_graphql.types.grouping import CaseGroupingResult
from dianshu_graphql.types.settlement import CasePoint
from dianshu_graphql.types.tenancy import Hospital


@strawberry.enum(
    description="active (the version in force), recalled (召回: out of points and settlement), superseded."
)
class CaseStatus(Enum):
    active = "active"
    recalled = "recalled"
    superseded = "superseded"


@strawberry.enum(
    description="partial: good rows go in, refused rows are listed; all_or_nothing: one refused row refuses all."
)
class IngestMode(Enum):
    partial = "partial"
    all_or_nothing = "all_or_nothing"


@strawberry.enum(description="The insurance fund (险种, 参保类型): employee 职工 (310) or resident 居民 (390).")
class FundType(Enum):
    employee = strawberry.enum_value("employee", description="职工医保 (310)")
    resident = strawberry.enum_value("resident", description="城乡居民医保 (390)")


@strawberry.enum(
    description="pending | done | refused (the whole batch, for its content) | failed (a system error: send it "
    "again to retry)"
)
class BatchStatus(Enum):
    pending = "pending"
    done = "done"
    refused = "refused"
    failed = "failed"


@strawberry.type(description="One version of one inpatient stay (医保结算清单). Money as decimal strings.")
class Case(node.Node):
    id: strawberry.ID
    database_id: int = strawberry.field(description="The case's own number in its tenant (caseGroupings' caseId).")
    tenant_code: str
    hospital_code: str
    list_id: str
    version: int
    is_current: bool
    status: CaseStatus
    mrn: str
    patient_id: str
    sex: int
    age_years: int
    age_days: int | None
    birth_weight_g: int | None
    fund_type: FundType
    insured_place: int
    admit_time: datetime.datetime
    discharge_time: datetime.datetime
    discharge_dept: str | None
    admit_dept: str | None = strawberry.field(description="入院科别 (adm_caty).")
    doctor_code: str | None = strawberry.field(description="主诊医师代码 (chfpdr_code), when the list gives it.")
    los_days: int
    discharge_way: int
    readmit_planned: bool
    coding: CodeEdition
    diagnoses: list[str]
    procedures: list[str]
    vent_hours: Decimal | None
    icu_hours: Decimal | None
    charges: list[Decimal] = strawberry.field(description="The 14 national charge categories, in order.")
    total_cost: Decimal
    fund_pay: Decimal
    self_pay: Decimal
    own_pay: Decimal
    discharge_month: datetime.date
    batch_id: strawberry.ID
    row_no: int
    recalled_at: datetime.datetime | None
    recall_reason: str | None

    @strawberry.field
    async def hospital(self, info: Info) -> Hospital | None:
        h = await info.context.loader("hospital", hospital_loader).load((self.tenant_code, self.hospital_code))
        return Hospital.of(h) if h else None

    @strawberry.field(
        description="This version's stored grouping results, one per scheme version it was grouped under "
        "(the city's payment standard, and a comparison scheme when grouped under one)."
    )
    async def groupings(self, info: Info) -> list[CaseGroupingResult]:
        rows = await info.context.loader("case_groupings", case_groupings_loader).load(
            (self.tenant_code, self.database_id)
        )
        return [CaseGroupingResult.of(r) for r in rows]

    @strawberry.field(
        description="This version's points in its year's latest points run (highest month, then version): "
        "DRG, case type (病例类型), points and the reason; null until a points run has counted it."
    )
    async def points(self, info: Info) -> CasePoint | None:
        r = await info.context.loader("case_points", case_points_loader).load((self.tenant_code, self.database_id))
        return CasePoint.of(r) if r is not None else None

    @strawberry.field(
        description="The month it is settled in (YYYY-MM: its discharge month as its year's latest points run "
        "counts it); null until a points run has counted it."
    )
    async def settlement_month(self, info: Info) -> str | None:
        r = await info.context.loader("case_points", case_points_loader).load((self.tenant_code, self.database_id))
        return f"{r.year}-{r.month:02d}" if r is not None else None

    @classmethod
    def of(cls, c: models.CaseRecord) -> Case:
        return cls(
            id=node.global_id("Case", c.tenant_id, c.id),
            database_id=c.id,
            tenant_code=c.tenant_id,
            hospital_code=c.hospital_id,
            list_id=c.list_id,
            version=c.version,
            is_current=c.is_current,
            status=CaseStatus(c.status),
            mrn=c.mrn,
            patient_id=c.patient_id,
            sex=c.sex,
            age_years=c.age_years,
            age_days=c.age_days,
            birth_weight_g=c.birth_weight_g,
            fund_type=FundType(c.fund_type),
            insured_place=c.insured_place,
            admit_time=c.admit_time,
            discharge_time=c.discharge_time,
            discharge_dept=c.discharge_dept,
            admit_dept=c.admit_dept,
            doctor_code=c.doctor_code,
            los_days=c.los_days,
            discharge_way=c.discharge_way,
            readmit_planned=c.readmit_planned,
            coding=CodeEdition(c.coding),
            diagnoses=list(c.diagnoses),
            procedures=list(c.procedures),
            vent_hours=c.vent_hours,
            icu_hours=c.icu_hours,
            charges=list(c.charges),
            total_cost=c.total_cost,
            fund_pay=c.fund_pay,
            self_pay=c.self_pay,
            own_pay=c.own_pay,
            discharge_month=c.discharge_month,
            batch_id=strawberry.ID(str(c.batch_id)),
            row_no=c.row_no,
            recalled_at=c.recalled_at,
            recall_reason=c.recall_reason,
        )


@strawberry.type(description="A refused row of an ingestion batch.")
class RowError:
    row_no: int
    list_id: str | None
    hospital_code: str | None
    field: str
    reason: str


@strawberry.type(description="An ingestion batch: what was sent and what became of it.")
class IngestionBatch(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID = strawberry.field(description="The batch's own id (as in the REST paths).")
    tenant_code: str
    idempotency_key: str
    mode: IngestMode
    status: BatchStatus
    reason: str | None
    rows_total: int
    rows_accepted: int
    rows_corrected: int
    rows_unchanged: int
    rows_refused: int
    control_rows: int | None
    control_total: Decimal | None
    job_id: strawberry.ID | None
    created_by: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None

    @strawberry.field(
        description="Where to download the refused rows as CSV (UTF-8 with a BOM; `?lang=en` for English "
        "headers) with your bearer token."
    )
    def errors_csv_url(self) -> str:
        return f"/ingest/{self.tenant_code}/batches/{self.database_id}/errors.csv"

    @strawberry.field(
        description="Where to download the refused rows as an Excel workbook (`?lang=en` for English headers) "
        "with your bearer token."
    )
    def errors_xlsx_url(self) -> str:
        return f"/ingest/{self.tenant_code}/batches/{self.database_id}/errors.xlsx"

    @classmethod
    def of(cls, b: models.IngestionBatch) -> IngestionBatch:
        return cls(
            id=node.global_id("IngestionBatch", b.tenant_id, b.id),
            database_id=b.id,
            tenant_code=b.tenant_id,
            idempotency_key=b.idempotency_key,
            mode=IngestMode(b.mode),
            status=BatchStatus(b.status),
            reason=b.reason,
            rows_total=b.rows_total,
            rows_accepted=b.rows_accepted,
            rows_corrected=b.rows_corrected,
            rows_unchanged=b.rows_unchanged,
            rows_refused=b.rows_refused,
            control_rows=b.control_rows,
            control_total=b.control_total,
            job_id=strawberry.ID(str(b.job_id)) if b.job_id else None,
            created_by=b.created_by,
            created_at=b.created_at,
            finished_at=b.finished_at,
        )


@strawberry.input
class UploadCasesInput:
    tenant: str
    file: Upload = strawberry.field(description="CSV or JSON Lines (optionally .gz) in the layout of the README.")
    idempotency_key: str
    mode: IngestMode = IngestMode.partial
    control_rows: int | None = None
    control_total: Decimal | None = None
    encoding: str | None = strawberry.field(
        default=None,
        description="The file's text encoding: utf-8 or gb18030 (gbk is read as gb18030). Left out, it is "
        "detected: valid UTF-8 (a BOM or not) is UTF-8, otherwise GB18030; bytes that decode in neither are refused.",
    )


@strawberry.type
class BatchPayload:
    batch: IngestionBatch
    created: bool = strawberry.field(description="False when an identical earlier upload returned its batch.")
    encoding: str = strawberry.field(
        default="utf-8", description="The encoding the file's text is read in (utf-8 or gb18030), declared or detected."
    )


@strawberry.type(description="What an ingestion (cases.ingest) did with a batch's rows.")
class IngestJobResult:
    batch_id: uuid.UUID = strawberry.field(description="The batch's databaseId.")
    status: BatchStatus
    reason: str | None = strawberry.field(description="Why the whole batch was refused, when it was.")
    rows: int
    accepted: int
    corrected: int
    unchanged: int
    refused: int
    encoding: str = strawberry.field(description="The encoding the file's text was read in: utf-8 or gb18030.")

    @classmethod
    def of(cls, r: dict) -> IngestJobResult:
        return cls(
            batch_id=uuid.UUID(str(r["batch_id"])),
            status=BatchStatus(r["status"]),
            reason=r.get("reason"),
            rows=int(r["rows"]),
            accepted=int(r["accepted"]),
            corrected=int(r["corrected"]),
            unchanged=int(r["unchanged"]),
            refused=int(r["refused"]),
            encoding=str(r.get("encoding", "utf-8")),
        )


job_results.register(INGEST, IngestJobResult, IngestJobResult.of)
