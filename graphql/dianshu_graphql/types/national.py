"""The national monthly upload in GraphQL: the export log, the lists each file carried, the
corrections pending for the next upload, and the export job's result."""

from __future__ import annotations

import datetime
import uuid
from enum import Enum

import strawberry

from dianshu.national import service
from dianshu.national.models import NationalExport as ExportRow
from dianshu.national.models import NationalExportItem
from dianshu_graphql import node
from dianshu_graphql.types import job_results
from dianshu_graphql.types.jobs import Job


@strawberry.enum(description="上传标志 (upld_flag), against the month's first upload.")
class NationalUploadFlag(Enum):
    first_upload = strawberry.enum_value("first_upload", description="0: first uploaded, or unchanged since")
    corrected = strawberry.enum_value("corrected", description="1: corrected (更正) since the first upload")
    withdrawn = strawberry.enum_value(
        "withdrawn", description="2: withdrawn (撤回): recalled, or moved to another month"
    )


FLAGS = (NationalUploadFlag.first_upload, NationalUploadFlag.corrected, NationalUploadFlag.withdrawn)


@strawberry.type(
    description="One file of the national monthly upload (医保结算清单上传, 4101A layout): a region's discharge "
    "month; what, when, by whom, how many lists, its SHA-256."
)
class NationalExport(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID = strawberry.field(description="The export's own id (as in its download path).")
    tenant_code: str
    month: str = strawberry.field(description="The discharge month, YYYY-MM.")
    seq: int = strawberry.field(description="1: the month's first upload; 2, 3 …: re-exports that differ.")
    file_name: str
    lists: int = strawberry.field(description="Settlement lists (lines) in the file.")
    first_upload: int = strawberry.field(description="Lines flagged 0 (first upload or unchanged).")
    corrected: int = strawberry.field(description="Lines flagged 1 (corrected since the first upload).")
    withdrawn: int = strawberry.field(description="Lines flagged 2 (withdrawn since the first upload).")
    size: int = strawberry.field(description="Bytes.")
    sha256: str
    job_id: strawberry.ID | None
    created_by: str
    created_at: datetime.datetime

    @strawberry.field(description="Where to download the file (JSON Lines, UTF-8) with your bearer token.")
    def download_url(self) -> str:
        return f"/downloads/national-exports/{self.tenant_code}/files/{self.database_id}"

    @classmethod
    def of(cls, e: ExportRow) -> NationalExport:
        return cls(
            id=node.global_id("NationalExport", e.tenant_id, e.id),
            database_id=e.id,
            tenant_code=e.tenant_id,
            month=f"{e.month:%Y-%m}",
            seq=e.seq,
            file_name=e.file_name,
            lists=e.lists,
            first_upload=e.first_upload,
            corrected=e.corrected,
            withdrawn=e.withdrawn,
            size=e.size,
            sha256=e.sha256,
            job_id=strawberry.ID(str(e.job_id)) if e.job_id else None,
            created_by=e.created_by,
            created_at=e.created_at,
        )


@strawberry.type(description="A settlement list as one upload file carried it (a hospital sees its own).")
class NationalUploadItem:
    tenant_code: str
    month: str
    seq: int = strawberry.field(description="The file's seq (1: the month's first upload).")
    hospital_code: str
    list_id: str
    flag: NationalUploadFlag
    case_id: strawberry.ID = strawberry.field(description="The Case (its global id) of the version written.")

    @classmethod
    def of(cls, i: NationalExportItem) -> NationalUploadItem:
        return cls(
            tenant_code=i.tenant_id,
            month=f"{i.month:%Y-%m}",
            seq=i.seq,
            hospital_code=i.hospital_id,
            list_id=i.list_id,
            flag=FLAGS[i.flag],
            case_id=node.global_id("Case", i.tenant_id, i.case_id),
        )


@strawberry.type(
    description="An exported month whose lists changed since its latest file (flagged for the next upload)."
)
class NationalUploadPending:
    month: str
    corrected: int = strawberry.field(description="Lists sent whose current version is another (更正).")
    withdrawn: int = strawberry.field(description="Lists sent that are no longer active in the month (召回 or moved).")
    added: int = strawberry.field(description="Active lists of the month not in its latest file.")

    @classmethod
    def of(cls, p: service.Pending) -> NationalUploadPending:
        return cls(month=f"{p.month:%Y-%m}", corrected=p.corrected, withdrawn=p.withdrawn, added=p.added)


@strawberry.type(description="What a national export (national.export) wrote.")
class NationalExportJobResult:
    export_id: uuid.UUID = strawberry.field(description="The export's databaseId.")
    month: str
    seq: int
    file_name: str
    lists: int
    first_upload: int
    corrected: int
    withdrawn: int
    sha256: str
    unchanged: bool = strawberry.field(
        description="True when the file equals the month's latest byte for byte: nothing was written."
    )

    @classmethod
    def of(cls, r: dict) -> NationalExportJobResult:
        return cls(
            export_id=uuid.UUID(str(r["export_id"])),
            month=str(r["month"]),
            seq=int(r["seq"]),
            file_name=str(r["file_name"]),
            lists=int(r["lists"]),
            first_upload=int(r["first_upload"]),
            corrected=int(r["corrected"]),
            withdrawn=int(r["withdrawn"]),
            sha256=str(r["sha256"]),
            unchanged=bool(r["unchanged"]),
        )


@strawberry.type(description="The national export job was submitted (poll the job for its result).")
class NationalExportJobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")


job_results.register(service.NATIONAL_EXPORT, NationalExportJobResult, NationalExportJobResult.of)
