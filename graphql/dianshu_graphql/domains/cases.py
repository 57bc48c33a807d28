from __future__ import annotations

import datetime
import uuid
from typing import Annotated

import strawberry
from sqlalchemy import exists, select, text, tuple_
from strawberry.types import Info

from dianshu.cases import models
from dianshu.cases.ingest import INGEST, BatchRequest, IngestRefused
from dianshu.cases.parsing import LayoutError
from dianshu.cases.service import RecallRefused, submit_batch
from dianshu.jobs.errors import IdempotencyConflict as IdempotencyConflictErr
from dianshu.scope import Role
from dianshu.settlement.latest import OUTLIER_TYPES, case_type_condition
from dianshu.settlement.runs.publish import recall_case
from dianshu_graphql import node, pagination
from dianshu_graphql.errors import (
    ExpectedError,
    FieldError,
    IdempotencyConflict,
    NotFound,
    PermissionDenied,
    StateConflict,
    ValidationError,
    refused,
)
from dianshu_graphql.permissions import Allow
from dianshu_graphql.types.cases import (
    BatchPayload,
    Case,
    CaseStatus,
    IngestionBatch,
    RowError,
    UploadCasesInput,
)
from dianshu_graphql.types.settlement import CaseType

UploadCasesResult = Annotated[
    BatchPayload | ValidationError | PermissionDenied | IdempotencyConflict, strawberry.union("UploadCasesResult")
]


@strawberry.type(description="The case was recalled; this is its version now.")
class RecallPayload:
    case: Case


RecallResult = Annotated[
    RecallPayload | ValidationError | PermissionDenied | NotFound | StateConflict, strawberry.union("RecallResult")
]
# Who may recall a case: the hospital that sent it (and its integrator) and the region.
RECALL = Allow(Role.hospital_user, Role.region_admin, Role.integrator)


async def fetch_case(info: Info, tenant: str, case_id: int) -> Case | None:
    """One version of a case, as `caseVersions` shows it (row-level security: a hospital its own)."""
    async with info.context.session() as s:
        row = (
            await s.execute(
                select(models.CaseRecord).where(models.CaseRecord.tenant_id == tenant, models.CaseRecord.id == case_id)
            )
        ).scalar_one_or_none()
    return Case.of(row) if row else None


async def fetch_batch(info: Info, tenant: str, batch_id: uuid.UUID) -> IngestionBatch | None:
    """One ingestion batch, as `ingestionBatches` shows it (row-level security)."""
    B = models.IngestionBatch
    async with info.context.session() as s:
        row = (await s.execute(select(B).where(B.tenant_id == tenant, B.id == batch_id))).scalar_one_or_none()
    return IngestionBatch.of(row) if row else None


node.register(Case, node.code_part, node.int_part, fetch=fetch_case)
node.register(IngestionBatch, node.code_part, node.uuid_part, fetch=fetch_batch)


def _month(value: str | None, field: str) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value + "-01")
    except ValueError as e:
        raise ExpectedError(f"{field}: {value!r} is not a month (YYYY-MM)") from e


@strawberry.type
class CasesQuery:
    @strawberry.field(description="Current versions of cases you may see, newest discharge first.")
    async def cases(
        self,
        info: Info,
        tenant: str | None = None,
        hospital: str | None = None,
        month: str | None = None,
        status: CaseStatus | None = None,
        drg: str | None = None,
        version: strawberry.ID | None = None,
        first: int | None = 50,
        after: str | None = None,
        department: Annotated[
            str | None, strawberry.argument(description="出院科别 (dscg_caty), exactly as the lists give it.")
        ] = None,
        case_type: Annotated[
            CaseType | None,
            strawberry.argument(description="病例类型 in the case's year's latest points run."),
        ] = None,
        outlier: Annotated[
            bool | None,
            strawberry.argument(
                description="true: high or low outliers (高/低倍率) in the year's latest points run; false: neither."
            ),
        ] = None,
        doctor: Annotated[str | None, strawberry.argument(description="主诊医师代码 (chfpdr_code).")] = None,
    ) -> pagination.Connection[Case]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str, pagination.key_int)
        q = (
            select(models.CaseRecord)
            .where(models.CaseRecord.is_current)
            .order_by(models.CaseRecord.tenant_id, models.CaseRecord.id)
            .limit(limit + 1)
        )
        if tenant:
            q = q.where(models.CaseRecord.tenant_id == tenant)
        if hospital:
            q = q.where(models.CaseRecord.hospital_id == hospital)
        if (m := _month(month, "month")) is not None:
            q = q.where(models.CaseRecord.discharge_month == m)
        if status:
            q = q.where(models.CaseRecord.status == status.value)
        if version and not drg:
            raise ExpectedError("version: only with drg (the scheme version the DRG belongs to)")
        if drg:
            from dianshu.grouping.models import CaseGrouping

            G = CaseGrouping
            same_case = (G.tenant_id == models.CaseRecord.tenant_id) & (G.case_id == models.CaseRecord.id)
            if version:
                (vid,) = node.key_of(version, "StandardVersion", field="version", raw=node.uuid_part, what="an id")
                q = q.join(G, same_case).where(G.version_id == vid, G.drg == drg)
            else:  # the DRG under any scheme version the case was grouped under
                q = q.where(exists().where(same_case, G.drg == drg))
        if department is not None:
            q = q.where(models.CaseRecord.discharge_dept == department)
        if doctor is not None:
            q = q.where(models.CaseRecord.doctor_code == doctor)
        if case_type is not None:
            q = q.where(text(case_type_condition("case_type")).bindparams(case_type=[case_type.value]))
        if outlier is not None:
            negate = "" if outlier else "not "
            q = q.where(text(negate + case_type_condition("outlier")).bindparams(outlier=list(OUTLIER_TYPES)))
        if cursor:
            q = q.where(tuple_(models.CaseRecord.tenant_id, models.CaseRecord.id) > tuple_(cursor[0], int(cursor[1])))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda c: [c.tenant_id, c.id], Case.of, after=after)

    @strawberry.field(description="Every version of one list id, oldest first.")
    async def case_versions(
        self,
        info: Info,
        tenant: str,
        hospital: str,
        list_id: str,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[Case]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int)
        C = models.CaseRecord
        q = (
            select(C)
            .where(C.tenant_id == tenant, C.hospital_id == hospital, C.list_id == list_id)
            .order_by(C.version)
            .limit(limit + 1)
        )
        if cursor:
            q = q.where(C.version > int(cursor[0]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda c: [c.version], Case.of, after=after)

    @strawberry.field(description="Ingestion batches you may see, newest first.")
    async def ingestion_batches(
        self, info: Info, tenant: str | None = None, first: int | None = 50, after: str | None = None
    ) -> pagination.Connection[IngestionBatch]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.iso_datetime, uuid.UUID)
        q = (
            select(models.IngestionBatch)
            .order_by(models.IngestionBatch.created_at.desc(), models.IngestionBatch.id.desc())
            .limit(limit + 1)
        )
        if tenant:
            q = q.where(models.IngestionBatch.tenant_id == tenant)
        if cursor:
            q = q.where(
                tuple_(models.IngestionBatch.created_at, models.IngestionBatch.id) < tuple_(cursor[0], cursor[1])
            )
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(
            rows, limit, lambda b: [b.created_at.isoformat(), str(b.id)], IngestionBatch.of, after=after
        )

    @strawberry.field(description="The refused rows of a batch, by row number.")
    async def ingestion_errors(
        self, info: Info, batch: strawberry.ID, first: int | None = 100, after: str | None = None
    ) -> pagination.Connection[RowError]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int, pagination.key_int)
        bid = node.key_of(batch, "IngestionBatch", field="batch", raw=node.uuid_part, what="a batch id")[-1]
        E = models.IngestionError
        q = select(E).where(E.batch_id == bid).order_by(E.row_no, E.seq).limit(limit + 1)
        if cursor:
            q = q.where(tuple_(E.row_no, E.seq) > tuple_(int(cursor[0]), int(cursor[1])))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(
            rows,
            limit,
            lambda e: [e.row_no, e.seq],
            lambda e: RowError(
                row_no=e.row_no, list_id=e.list_id, hospital_code=e.row_hospital, field=e.field, reason=e.reason
            ),
            after=after,
        )


@strawberry.type
class CasesMutation:
    @strawberry.mutation(
        description="Upload settlement lists (a job validates and merges them; idempotent by key).",
        extensions=[Allow(job=INGEST)],
    )
    async def upload_cases(self, info: Info, input: UploadCasesInput) -> UploadCasesResult:
        file = input.file

        async def chunks():
            while data := await file.read(1 << 20):
                yield data

        req = BatchRequest(
            input.tenant,
            file.filename or "upload.csv",
            input.idempotency_key,
            input.mode.value,
            input.control_rows,
            input.control_total,
            input.encoding,
        )
        try:
            sub = await submit_batch(info.context.db, info.context.scope, req, chunks())
        except IngestRefused as e:
            return refused(e)
        except LayoutError as e:
            return ValidationError(message=str(e), errors=[FieldError(record="upload", field="file", reason=str(e))])
        except IdempotencyConflictErr as e:
            return IdempotencyConflict(message=str(e), idempotency_key=e.key)
        return BatchPayload(batch=IngestionBatch.of(sub.batch), created=sub.created, encoding=sub.encoding)

    @strawberry.mutation(
        description="Recall (召回) a case: it leaves points and settlement, and stays in history.", extensions=[RECALL]
    )
    async def recall_case(self, info: Info, tenant: str, hospital: str, list_id: str, reason: str) -> RecallResult:
        try:
            async with info.context.session() as s:
                case = await recall_case(s, info.context.scope, tenant, hospital, list_id, reason)
        except RecallRefused as e:
            return refused(e)
        return RecallPayload(case=Case.of(case))
