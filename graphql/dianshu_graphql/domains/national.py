"""The national monthly upload (医保结算清单上传) in GraphQL: run the export of a region's month (a job),
read the export log, the lists each file carried (a hospital: its own) and what is pending for the
next upload. Row-level security: an export file (every hospital of the region) is seen only by a
scope over all of the region's hospitals."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info

from dianshu.jobs.errors import JobRejected
from dianshu.national import service
from dianshu.national.models import NationalExport as ExportRow
from dianshu.national.models import NationalExportItem
from dianshu_graphql import node, pagination
from dianshu_graphql.domains import grouping
from dianshu_graphql.errors import ExpectedError, IdempotencyConflict, PermissionDenied, ValidationError
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.national import (
    NationalExport,
    NationalExportJobPayload,
    NationalUploadItem,
    NationalUploadPending,
)
from dianshu_graphql.types.settlement import job_payload

ExportNationalResult = Annotated[
    NationalExportJobPayload | ValidationError | PermissionDenied | IdempotencyConflict,
    strawberry.union("ExportNationalResult"),
]


def month_arg(value: str, field: str = "month") -> datetime.date:
    try:
        return service.check_month(value)
    except JobRejected as e:
        raise ExpectedError(f"{field}: {str(e).split(': ', 1)[-1]}", field) from None


async def fetch_export(info: Info, tenant: str, export_id: uuid.UUID) -> NationalExport | None:
    async with info.context.session() as s:
        row = await service.export_by_id(s, tenant, export_id)
    return NationalExport.of(row) if row else None


node.register(NationalExport, node.code_part, node.uuid_part, fetch=fetch_export)


@strawberry.type
class NationalQuery:
    @strawberry.field(
        description="The export log of the national monthly upload: newest month first, then newest file (a "
        "region-wide scope's: a hospital sees none, each file holding every hospital of the region).",
        extensions=[Allow(*ANYONE)],
    )
    async def national_exports(
        self, info: Info, tenant: str, month: str | None = None, first: int | None = 50, after: str | None = None
    ) -> pagination.Connection[NationalExport]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, datetime.date.fromisoformat, pagination.key_int)
        E = ExportRow
        m = month_arg(month) if month is not None else None
        q = select(E).where(E.tenant_id == tenant).order_by(E.month.desc(), E.seq.desc()).limit(limit + 1)
        if m is not None:
            q = q.where(E.month == m)
        if cursor:
            q = q.where(tuple_(E.month, E.seq) < tuple_(cursor[0], cursor[1]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda e: [e.month.isoformat(), e.seq], NationalExport.of, after=after)

    @strawberry.field(
        description="The settlement lists the month's upload files carried, file by file (a hospital: its own).",
        extensions=[Allow(*ANYONE)],
    )
    async def national_upload_items(
        self,
        info: Info,
        tenant: str,
        month: str,
        hospital: str | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> pagination.Connection[NationalUploadItem]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int, str, str)
        I = NationalExportItem  # noqa: E741
        q = service.items_query(tenant, month_arg(month), hospital).limit(limit + 1)
        if cursor:
            q = q.where(tuple_(I.seq, I.hospital_id, I.list_id) > tuple_(cursor[0], cursor[1], cursor[2]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(
            rows, limit, lambda i: [i.seq, i.hospital_id, i.list_id], NationalUploadItem.of, after=after
        )

    @strawberry.field(
        description="Corrections and recalls after an export, flagged for the next upload: per exported month of "
        "the year (at most 12), what differs from its latest file (empty when all are up to date; a region-wide "
        "scope's).",
        extensions=[Allow(*ANYONE)],
    )
    async def national_upload_pending(self, info: Info, tenant: str, year: int) -> list[NationalUploadPending]:
        async with info.context.session() as s:
            return [NationalUploadPending.of(p) for p in await service.pending(s, tenant, year)]


@strawberry.type
class NationalMutation:
    @strawberry.mutation(
        description="Export a region's discharge month in the national upload layout (a job): one file, its "
        "SHA-256 and a log row; the same data again gives the same bytes and writes nothing.",
        extensions=[Allow(job=service.NATIONAL_EXPORT)],
    )
    async def export_national_upload(
        self, info: Info, tenant: str, month: str, idempotency_key: str | None = None
    ) -> ExportNationalResult:
        result = await grouping.submit(info, tenant, service.NATIONAL_EXPORT, {"month": month}, idempotency_key)
        return job_payload(result, NationalExportJobPayload)
