"""Downloads of the national monthly upload: the file itself (as written, byte for byte, with its
SHA-256 in a header), the export log and the lists uploaded (CSV with a BOM or XLSX, Chinese
headers unless `lang=en`). Same bearer tokens, `Allow` declarations and row-level security as the
GraphQL fields: an export file only for a scope over all of the region's hospitals; the lists
uploaded for a hospital its own."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from dianshu.cases.validation import CHINA
from dianshu.db.session import scoped_session
from dianshu.jobs.errors import JobRejected
from dianshu.national import service
from dianshu.scope import Role, Scope
from dianshu.tabular.write import Column, Kind, Table
from dianshu_graphql.downloads import DownloadRefused, download_options, table_response
from dianshu_graphql.permissions import ANYONE, BUREAU, Allow
from dianshu_graphql.rest import _problem, guarded

# Who downloads an export file and the log: the bureaus and an integrator (and row-level security: a
# region-wide scope only; a hospital's own lists are in /items). The GraphQL lists are open to anyone
# in the tenant and row-level security leaves a hospital an empty list, as every other list does.
READ_EXPORTS = Allow(*BUREAU, Role.integrator)
FLAG_NAMES = {0: ("0 首次上传", "0 first upload"), 1: ("1 更正", "1 corrected"), 2: ("2 撤回", "2 withdrawn")}

LOG_COLUMNS = (
    Column("month", "结算月份", "Month", Kind.month),
    Column("seq", "批次", "Seq", Kind.count),
    Column("file_name", "文件名", "File name"),
    Column("lists", "清单数", "Lists", Kind.count),
    Column("first_upload", "首次上传", "First upload", Kind.count),
    Column("corrected", "更正", "Corrected", Kind.count),
    Column("withdrawn", "撤回", "Withdrawn", Kind.count),
    Column("size", "字节数", "Bytes", Kind.count),
    Column("sha256", "SHA-256校验值", "SHA-256"),
    Column("created_by", "导出人", "Exported by"),
    Column("created_at", "导出时间(北京时间)", "Exported at (Beijing time)"),
)
ITEM_COLUMNS = (
    Column("month", "结算月份", "Month", Kind.month),
    Column("seq", "批次", "Seq", Kind.count),
    Column("hospital_id", "定点医药机构编号", "Hospital"),
    Column("list_id", "结算清单流水号", "List id"),
    Column("flag", "上传标志", "Upload flag"),
)


def _month(params: dict[str, str], required: bool):
    value = params.get("month")
    if value is None:
        if required:
            raise DownloadRefused("month", "required (YYYY-MM)")
        return None
    try:
        return service.check_month(value)
    except JobRejected as e:
        raise DownloadRefused("month", str(e).split(": ", 1)[-1]) from None


@guarded(READ_EXPORTS)
async def export_file(request: Request, scope: Scope) -> Response:
    """GET /downloads/national-exports/{tenant}/files/{export}: the file as written (JSON Lines)."""
    tenant = request.path_params["tenant"]
    if request.query_params:
        return _problem(400, next(iter(request.query_params)), "unknown parameter (none are taken)")
    try:
        export_id = uuid.UUID(request.path_params["export"])
    except ValueError:
        return _problem(404, "export", "not an export id")
    async with scoped_session(request.app.state.services.db, scope) as s:
        e = await service.export_by_id(s, tenant, export_id, with_content=True)
    if e is None:
        return _problem(404, "export", f"no export {export_id} of {tenant} that you may see")
    return Response(
        e.content,
        media_type="application/jsonl; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{e.file_name}"',
            "X-Checksum-SHA256": e.sha256,
            "ETag": f'"{e.sha256}"',
        },
    )


@guarded(READ_EXPORTS)
async def export_log(request: Request, scope: Scope) -> Response:
    """GET /downloads/national-exports/{tenant}/log?format=csv|xlsx&lang=zh|en[&month=YYYY-MM]"""
    tenant = request.path_params["tenant"]
    try:
        fmt, lang, extra = download_options(request, extra=("month",))
        month = _month(extra, required=False)
    except DownloadRefused as e:
        return e.response()
    async with scoped_session(request.app.state.services.db, scope) as s:
        rows = await service.exports(s, tenant, month)
    table = Table(
        f"national-exports-{tenant}",
        f"{tenant} 医保结算清单上传记录",
        f"{tenant} national upload log",
        LOG_COLUMNS,
        [
            {
                **{c.key: getattr(e, c.key) for c in LOG_COLUMNS if c.key != "created_at"},
                "created_at": e.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            }
            for e in rows
        ],
    )
    return table_response(table, fmt, lang)


@guarded(Allow(*ANYONE))
async def upload_items(request: Request, scope: Scope) -> Response:
    """GET /downloads/national-exports/{tenant}/items?month=YYYY-MM[&format=..&lang=..]: the lists
    the month's files carried (a hospital: its own)."""
    tenant = request.path_params["tenant"]
    try:
        fmt, lang, extra = download_options(request, extra=("month",))
        month = _month(extra, required=True)
    except DownloadRefused as e:
        return e.response()
    async with scoped_session(request.app.state.services.db, scope) as s:
        rows = list((await s.execute(service.items_query(tenant, month))).scalars())
    zh = lang.value == "zh"
    table = Table(
        f"national-upload-items-{tenant}-{month:%Y%m}",
        f"{tenant} {month:%Y-%m} 医保结算清单上传明细",
        f"{tenant} {month:%Y-%m} lists uploaded",
        ITEM_COLUMNS,
        [
            {
                "month": i.month,
                "seq": i.seq,
                "hospital_id": i.hospital_id,
                "list_id": i.list_id,
                "flag": FLAG_NAMES[i.flag][0 if zh else 1],
            }
            for i in rows
        ],
    )
    return table_response(table, fmt, lang)
