"""The training downloads over REST (as rest.py's paths: the bearer token, `Allow`, row-level
security): coverage per hospital and the attendance of a year, as CSV (UTF-8 with a BOM) or XLSX,
Chinese headers by default (`?format=csv|xlsx&lang=zh|en&hospital=H…`). The tenant must be a region
you may see (a city: 400 naming `tenant`; another's: 404), the hospital one of its hospitals you
may see (404 naming `hospital`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dianshu import bounds
from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from dianshu_graphql.downloads import DownloadRefused, download_options, table_response
from dianshu_graphql.permissions import BUREAU, Allow
from dianshu_graphql.rest import _problem, guarded

READ = Allow(Role.hospital_user, *BUREAU)


def _year(request: Request) -> int | JSONResponse:
    raw = request.path_params["year"]
    if not raw.isdigit() or len(raw) != 4:
        return DownloadRefused("year", f"must be a year as 4 digits (got {raw[:10]!r})").response()
    year = int(raw)
    if (reason := bounds.year_reason(year)) is not None:
        return DownloadRefused("year", reason).response()
    return year


def _hospital(extra: dict[str, str]) -> str | None:
    h = extra.get("hospital")
    if h is not None and bounds.text_reason(h, 20) is not None:
        raise DownloadRefused("hospital", "must be a hospital code")
    return h


async def _check_place(s, scope: Scope, tenant: str, hospital: str | None) -> JSONResponse | None:
    """The tenant must be a region you may see (a city: 400; not yours or unknown: 404), the
    hospital one of its hospitals you may see (else 404), both named in the refusal."""
    from dianshu.tenancy.service import parent_city
    from dianshu.training.service import hospital_known

    if bounds.text_reason(tenant, 12) is not None or not scope.sees_tenant(tenant):
        return _problem(404, "tenant", f"no region {tenant[:12]} that you may see")
    if await parent_city(s, tenant) is None:
        return _problem(400, "tenant", f"{tenant} is not a region: training records are kept in the hospitals' region")
    foreign = scope.hospital_id is not None and hospital != scope.hospital_id
    if hospital is not None and (foreign or not await hospital_known(s, tenant, hospital)):
        return _problem(404, "hospital", f"no hospital {hospital} of {tenant} that you may see")
    return None


async def _download(request: Request, scope: Scope, build) -> Response:
    """The training downloads' one path: the year, `?format=&lang=&hospital=` strictly, the tenant
    and hospital checked, then the table `build(session, tenant, year, hospital, lang)` makes."""
    tenant = request.path_params["tenant"]
    year = _year(request)
    if isinstance(year, Response):
        return year
    try:
        fmt, lang, extra = download_options(request, extra=("hospital",))
        hospital = _hospital(extra)
    except DownloadRefused as e:
        return e.response()
    async with scoped_session(request.app.state.services.db, scope) as s:
        if (refused := await _check_place(s, scope, tenant, hospital)) is not None:
            return refused
        table = await build(s, tenant, year, hospital, lang)
    return table_response(table, fmt, lang)


@guarded(READ)
async def coverage_file(request: Request, scope: Scope) -> Response:
    """GET /downloads/training/{tenant}/coverage/{year}?format=csv|xlsx&lang=zh|en&hospital=H…"""
    from dianshu.training.coverage import coverage
    from dianshu.training.tables import coverage_table

    async def build(s, tenant, year, hospital, lang):
        return coverage_table(await coverage(s, [tenant], year, hospital), tenant, year)

    return await _download(request, scope, build)


@guarded(READ)
async def attendance_file(request: Request, scope: Scope) -> Response:
    """GET /downloads/training/{tenant}/attendance/{year}?format=csv|xlsx&lang=zh|en&hospital=H…"""
    from dianshu.training.tables import attendance_rows, attendance_table

    async def build(s, tenant, year, hospital, lang):
        return attendance_table(await attendance_rows(s, [tenant], year, hospital), tenant, year, lang)

    return await _download(request, scope, build)
