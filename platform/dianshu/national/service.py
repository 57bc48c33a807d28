"""The national monthly upload as a job, its export log and the corrections pending.

`national.export` (region or city bureau, for one region and one discharge month) writes the
month's file: the current, active settlement lists discharged in the month, each flagged against
the file of the month that first carried it (0 first upload or unchanged, 1 corrected since, 2
withdrawn since: recalled, or corrected into another month). A withdrawn list is written as it was
last sent, and in every later file of the month too (the month's files only ever add lines). A
re-export of unchanged data gives the same bytes; when they equal the month's latest file the job
writes nothing (no log row, no audit) and answers with that file. A correction or recall after an
export shows in `pending` (flagged for the next upload) until the month is exported again."""

from __future__ import annotations

import datetime
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from dianshu import bounds
from dianshu.audit import service as audit
from dianshu.cases.current import current_cases
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.jobs.models import Job
from dianshu.national.layout import CORRECTED, FIRST_UPLOAD, WITHDRAWN, Built, build_file, file_name
from dianshu.national.models import NationalExport, NationalExportItem
from dianshu.tenancy.models import Tenant

NATIONAL_EXPORT = "national.export"
PARAMS = ("month",)
_MONTH = re.compile(r"^\d{4}-\d{2}$", re.ASCII)

# case_record's columns the layout reads (national_record), with the hospital's name.
_CASE_COLUMNS = """c.id, c.hospital_id, c.list_id, c.mrn, c.patient_id, c.sex, c.birth_date, c.age_years,
    c.age_days, c.birth_weight_g, c.admit_weight_g, c.fund_type, c.admission_route, c.admit_time,
    c.admit_dept, c.discharge_time, c.discharge_dept, c.los_days, c.discharge_way, c.readmit_planned,
    c.doctor_code, c.diagnoses, c.dx_admit_cond, c.procedures, c.proc_dates, c.vent_hours, c.icu_hours,
    c.charges, c.total_cost, c.fund_pay, c.self_pay, c.own_pay, h.name as hospital_name"""

SQL_MONTH_CASES = f"""
    select {_CASE_COLUMNS}
    from case_record c join hospital h on h.tenant_id = c.tenant_id and h.id = c.hospital_id
    where c.tenant_id = :tenant and c.discharge_month = :month and {current_cases("c")}"""

# Every list the month's files have carried: the case version of the file it first appeared in
# (any seq: a list added in a later file is compared with that file), and the version last sent
# as an active list (what a withdrawn line repeats).
SQL_SENT = f"""
    select i.hospital_id, i.list_id,
           (array_agg(i.case_id order by i.seq))[1] as first_case,
           (array_agg(i.case_id order by i.seq desc) filter (where i.flag <> {WITHDRAWN}))[1] as last_sent
    from national_export_item i
    where i.tenant_id = :tenant and i.month = :month
    group by i.hospital_id, i.list_id"""

SQL_CASES_BY_ID = f"""
    select {_CASE_COLUMNS}
    from case_record c join hospital h on h.tenant_id = c.tenant_id and h.id = c.hospital_id
    where c.tenant_id = :tenant and c.id = any(cast(:ids as bigint[]))"""

SQL_ITEMS = """
    insert into national_export_item (tenant_id, export_id, month, seq, hospital_id, list_id, case_id, flag)
    select cast(:tenant as varchar), cast(:export as uuid), cast(:month as date), cast(:seq as integer), h, l, c, f
    from unnest(cast(:h as text[]), cast(:l as text[]), cast(:c as bigint[]), cast(:f as smallint[]))
         as x(h, l, c, f)"""

# Per exported month: the lists whose state differs from what the month's latest file carried (a
# new version, a recall, a list added or moved out since), counted set-wise.
SQL_PENDING = f"""
    with latest as (
      select distinct on (e.month) e.tenant_id, e.id, e.month, e.seq, e.created_at
      from national_export e where e.tenant_id = :tenant and e.month between :start and :end
      order by e.month, e.seq desc
    ),
    sent as (
      select l.month, i.hospital_id, i.list_id, i.case_id, i.flag
      from latest l join national_export_item i on i.tenant_id = l.tenant_id and i.export_id = l.id
      where i.flag <> {WITHDRAWN}
    ),
    cur as (
      select c.discharge_month as month, c.hospital_id, c.list_id, c.id as case_id
      from case_record c
      where c.tenant_id = :tenant and {current_cases("c")} and c.discharge_month in (select month from latest)
    )
    select coalesce(s.month, n.month) as month,
           count(*) filter (where s.case_id is not null and n.case_id is not null) as corrected,
           count(*) filter (where n.case_id is null) as withdrawn,
           count(*) filter (where s.case_id is null) as added
    from sent s full join cur n on n.month = s.month and n.hospital_id = s.hospital_id and n.list_id = s.list_id
    where s.case_id is distinct from n.case_id
    group by 1 order by 1"""


def check_month(value: Any) -> datetime.date:
    if type(value) is not str or not _MONTH.match(value):
        raise JobRejected("month: a month as YYYY-MM (a string)", field="month")
    year, month = int(value[:4]), int(value[5:])
    if (reason := bounds.year_reason(year)) is not None:
        raise JobRejected(f"month: the year {reason}", field="month")
    if not 1 <= month <= 12:
        raise JobRejected(f"month: {value} is not a month (01-12)", field="month")
    return datetime.date(year, month, 1)


async def check_params(session: AsyncSession, tenant: str, p: dict[str, Any]) -> None:
    """The submission check: only `month` (YYYY-MM), and the tenant a region (its cases' tenant)."""
    if unknown := sorted(set(p) - set(PARAMS)):
        raise JobRejected(f"{unknown[0]}: not a parameter of {NATIONAL_EXPORT} (only month)", field=unknown[0])
    check_month(p.get("month"))
    t = (await session.execute(select(Tenant).where(Tenant.code == tenant))).scalar_one_or_none()
    if t is None:
        raise JobRejected(f"tenant: no tenant {tenant}", field="tenant")
    if t.kind != "region":
        raise JobRejected(f"tenant: {tenant} is a city; the upload is one file per region", field="tenant")


async def build_month(session: AsyncSession, tenant: str, month: datetime.date) -> tuple[Built, list[tuple]]:
    """The month's file as it would be written now, and its items (hospital, list, case, flag).
    Reads under the session's scope: the job's is the whole region."""
    params = {"tenant": tenant, "month": month}
    now = {(r.hospital_id, r.list_id): r for r in (await session.execute(text(SQL_MONTH_CASES), params)).all()}
    sent = {(r.hospital_id, r.list_id): r for r in (await session.execute(text(SQL_SENT), params))}
    gone = {key: r.last_sent for key, r in sent.items() if key not in now}
    withdrawn = {}
    if gone:
        rows = (await session.execute(text(SQL_CASES_BY_ID), {"tenant": tenant, "ids": list(gone.values())})).all()
        withdrawn = {r.id: r for r in rows}
    entries, items = [], []
    for key, row in now.items():
        flag = FIRST_UPLOAD if key not in sent or sent[key].first_case == row.id else CORRECTED
        entries.append((row._mapping, row.hospital_name, flag))
        items.append((*key, row.id, flag))
    # A list once sent and no longer active stays in every later file of the month as withdrawn
    # (flag 2, its last sent version): the set only grows, so a re-export stays byte-identical.
    for key, case_id in gone.items():
        row = withdrawn[case_id]
        entries.append((row._mapping, row.hospital_name, WITHDRAWN))
        items.append((*key, case_id, WITHDRAWN))
    return build_file(entries), items


async def latest_export(session: AsyncSession, tenant: str, month: datetime.date) -> NationalExport | None:
    E = NationalExport
    return (
        await session.execute(select(E).where(E.tenant_id == tenant, E.month == month).order_by(E.seq.desc()).limit(1))
    ).scalar_one_or_none()


def _result(e: NationalExport, unchanged: bool) -> dict[str, Any]:
    return {
        "export_id": str(e.id),
        "month": f"{e.month:%Y-%m}",
        "seq": e.seq,
        "file_name": e.file_name,
        "lists": e.lists,
        "first_upload": e.first_upload,
        "corrected": e.corrected,
        "withdrawn": e.withdrawn,
        "sha256": e.sha256,
        "unchanged": unchanged,
    }


@job_kind(NATIONAL_EXPORT, roles={"city_admin", "region_admin"}, check=check_params)
async def export_month(ctx: JobContext) -> dict[str, Any]:
    unknown = sorted(set(ctx.params) - set(PARAMS))
    if unknown:
        raise JobRejected(f"{unknown[0]}: not a parameter of {NATIONAL_EXPORT}", field=unknown[0])
    month = check_month(ctx.params.get("month"))
    if not ctx.scope.all_hospitals:
        raise JobRejected("tenant: the upload holds every hospital of the region (a region-wide job)", field="tenant")
    s, tenant = ctx.session, ctx.tenant_id
    await ctx.progress(0, None, f"exporting {month:%Y-%m}")
    # One export of a (region, month) at a time: a concurrent one waits here, then sees this one's
    # file (the same bytes: nothing written) instead of both writing the same seq.
    await s.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"national:{tenant}:{month:%Y-%m}", 0))))
    built, items = await build_month(s, tenant, month)
    latest = await latest_export(s, tenant, month)
    if latest is not None and latest.sha256 == built.sha256 and await _content(s, latest) == built.content:
        return _result(latest, unchanged=True)  # the same bytes again: nothing is written
    if built.lists == 0:
        raise JobRejected(f"month: no settlement lists of {tenant} discharged in {month:%Y-%m}", field="month")
    created_by = (await s.execute(select(Job.created_by).where(Job.tenant_id == tenant, Job.id == ctx.job_id))).scalar()
    seq = (latest.seq if latest else 0) + 1
    e = NationalExport(
        tenant_id=tenant,
        id=uuid.uuid4(),
        hospital_id=None,
        month=month,
        seq=seq,
        file_name=file_name(tenant, month, seq),
        lists=built.lists,
        first_upload=built.counts[FIRST_UPLOAD],
        corrected=built.counts[CORRECTED],
        withdrawn=built.counts[WITHDRAWN],
        size=len(built.content),
        sha256=built.sha256,
        content=built.content,
        job_id=ctx.job_id,
        created_by=created_by or ctx.scope.actor,
    )
    s.add(e)
    await s.flush()
    h, lists, cases, flags = (list(col) for col in zip(*items, strict=True))
    await s.execute(
        text(SQL_ITEMS),
        {"tenant": tenant, "export": e.id, "month": month, "seq": seq, "h": h, "l": lists, "c": cases, "f": flags},
    )
    await audit.record(
        s, ctx.scope, tenant, "national.exported", f"national_export:{e.id}",
        month=f"{month:%Y-%m}", seq=seq, lists=e.lists, sha256=e.sha256, by=e.created_by,
    )  # fmt: skip
    await s.refresh(e, ["created_at"])
    return _result(e, unchanged=False)


# ---- reads (under the caller's scope) -------------------------------------------------------------


async def exports(
    session: AsyncSession, tenant: str, month: datetime.date | None = None, limit: int | None = None
) -> list[NationalExport]:
    """The export log, newest month first, then newest file (a hospital scope sees none)."""
    E = NationalExport
    q = select(E).where(E.tenant_id == tenant).order_by(E.month.desc(), E.seq.desc())
    if month is not None:
        q = q.where(E.month == month)
    if limit is not None:
        q = q.limit(limit)
    return list((await session.execute(q)).scalars())


async def export_by_id(
    session: AsyncSession, tenant: str, export_id: uuid.UUID, *, with_content: bool = False
) -> NationalExport | None:
    """One log row; its file's bytes only when asked (the download): `content` is deferred."""
    E = NationalExport
    q = select(E).where(E.tenant_id == tenant, E.id == export_id)
    if with_content:
        q = q.options(undefer(E.content))
    return (await session.execute(q)).scalar_one_or_none()


async def _content(session: AsyncSession, e: NationalExport) -> bytes:
    E = NationalExport
    return (await session.execute(select(E.content).where(E.tenant_id == e.tenant_id, E.id == e.id))).scalar_one()


@dataclass(frozen=True)
class Pending:
    month: datetime.date
    corrected: int  # a list sent whose current version is another (a correction)
    withdrawn: int  # a list sent that is no longer an active list of the month (recalled or moved)
    added: int  # an active list of the month not in its latest file (sent late, or moved in)


async def pending(session: AsyncSession, tenant: str, year: int) -> list[Pending]:
    """Corrections and recalls after an export, flagged for the next upload: per exported month of
    the year, what differs from its latest file (empty when every exported month is up to date)."""
    params = {"tenant": tenant, "start": datetime.date(year, 1, 1), "end": datetime.date(year, 12, 1)}
    rows = (await session.execute(text(SQL_PENDING), params)).all()
    return [Pending(r.month, r.corrected, r.withdrawn, r.added) for r in rows]


def items_query(tenant: str, month: datetime.date, hospital: str | None = None):
    """The lists uploaded for a month, file by file (a hospital scope: its own lists only)."""
    I = NationalExportItem  # noqa: E741
    q = select(I).where(I.tenant_id == tenant, I.month == month).order_by(I.seq, I.hospital_id, I.list_id)
    return q.where(I.hospital_id == hospital) if hospital else q
