"""Grouping a tenant's cases (job), and comparing how cases move between two schemes."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu import bounds
from dianshu.audit import service as audit
from dianshu.cases.current import current_cases
from dianshu.db.copy import copy_text, raw_connection, stage
from dianshu.db.partitions import ensure_year_partition
from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import GroupInput
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.standards.in_force import in_force, version_in_force
from dianshu.standards.models import DrgSchemeVersion, PaymentStandard
from dianshu.standards.service import StandardsError, grouper_for
from dianshu.tenancy.service import parent_city

GROUP_CASES = "grouping.group_cases"
FETCH = 10_000
RESULT_COLUMNS = ("case_id", "year", "hospital_id", "mdc", "adrg", "drg", "status", "mcc", "cc", "messages")


def month(value: str, field: str) -> datetime.date:
    if (reason := bounds.year_month_reason(value)) is not None:
        raise JobRejected(f"{field}: {reason}", field=field)
    return datetime.date.fromisoformat(value + "-01")


async def default_version(session: AsyncSession, city: str | None, on: datetime.date) -> uuid.UUID | None:
    """The scheme version of the city's payment standard in force on `on`, else the ZJ-DRG version
    in force on `on` (the pilot city's scheme)."""
    if city:
        v = (await session.execute(in_force(city, on, PaymentStandard.scheme_version_id))).scalar_one_or_none()
        if v:
            return v
    version = (await session.execute(version_in_force("zhejiang_2022", on))).scalar_one_or_none()
    return version.id if version is not None else None


def case_input(row: Any) -> GroupInput:
    return GroupInput(
        id=str(row.id),
        sex=row.sex,
        age_years=row.age_years,
        age_days=row.age_days,
        birth_weight_g=row.birth_weight_g,
        los_days=row.los_days,
        discharge_way=row.discharge_way,
        diagnoses=tuple(row.diagnoses),
        procedures=tuple(row.procedures),
        vent_hours=float(row.vent_hours) if row.vent_hours is not None else None,
        icu_hours=float(row.icu_hours) if row.icu_hours is not None else None,
        dept=row.discharge_dept,
        coding=row.coding,
    )


# The fast path's columns, in the order `result_lines` unpacks them (hours as float8: no Decimal).
FAST_COLUMNS = (
    "id",
    "hospital_id",
    "sex",
    "age_years",
    "age_days",
    "birth_weight_g",
    "los_days",
    "discharge_way",
    "diagnoses",
    "procedures",
    "vent_hours::float8",
    "icu_hours::float8",
    "discharge_dept",
    "coding",
    "extract(year from discharge_month)::int2",  # case_grouping's partition (migration 0023)
)


_ID, _HOSPITAL, _YEAR = 0, 1, len(FAST_COLUMNS) - 1  # rows read by position


class _CopyText(dict):
    """COPY text of a value from a small set (codes, statuses, hospital ids), worked out once."""

    def __missing__(self, value: Any) -> str:
        self[value] = out = copy_text(value)
        return out


def fast_inputs(rows: Sequence[Sequence[Any]]) -> list[GroupInput]:
    """Grouper records from FAST_COLUMNS rows (values stored as validated at ingestion)."""
    return [
        GroupInput(str(cid), sex, age_y, age_d, weight, los, way, tuple(dxs), tuple(procs), vent, icu, dept, coding)
        for cid, _, sex, age_y, age_d, weight, los, way, dxs, procs, vent, icu, dept, coding, _year in rows
    ]


def result_lines(
    g: Grouper, version: str, rows: Sequence[Sequence[Any]], inputs: list[GroupInput], counts: dict[str, int]
) -> list[str]:
    """Group a batch (FAST_COLUMNS rows and their records): COPY text lines for
    `grouping_results`, counting the statuses into `counts`."""
    group, dumps, text_of = g.group, orjson.dumps, _CopyText()
    text_of[None] = "\\N"
    arrays: dict[tuple[str, ...], str] = {(): "{}"}
    out = []
    for row, rec in zip(rows, inputs, strict=True):
        cid, year, hospital = row[_ID], row[_YEAR], row[_HOSPITAL]
        r = group(rec)
        counts[r.status] += 1
        mcc, cc = arrays.get(r.mcc), arrays.get(r.cc)
        if mcc is None:
            mcc = arrays[r.mcc] = copy_text(list(r.mcc))
        if cc is None:
            cc = arrays[r.cc] = copy_text(list(r.cc))
        if r.messages:
            msgs = dumps([{"level": m.level, "field": m.field, "text": m.text} for m in r.messages]).decode()
            if "\\" in msgs:
                msgs = msgs.replace("\\", "\\\\")
        else:
            msgs = "[]"
        out.append(
            f"{version}\t{cid}\t{year}\t{text_of[hospital]}\t{text_of[r.mdc]}\t{text_of[r.adrg]}\t{text_of[r.drg]}\t"
            f"{r.status}\t{mcc}\t{cc}\t{msgs}\n"
        )
    return out


CASE_FIELDS = (
    "id, hospital_id, sex, age_years, age_days, birth_weight_g, los_days, discharge_way, diagnoses, "
    "procedures, vent_hours, icu_hours, discharge_dept, coding"
)


async def check_period_params(session: AsyncSession, tenant: str, p: dict[str, Any]) -> None:
    period(p)


@job_kind(GROUP_CASES, roles={"city_admin", "region_admin", "integrator"}, check=check_period_params)
async def group_cases(ctx: JobContext) -> dict[str, Any]:
    """Group (or regroup) the tenant's current, active cases discharged in [from, to] under one or
    two scheme versions. Results replace earlier ones for the same case and version; a result
    that did not change is left as it was (with the job that last changed it)."""
    p = ctx.params
    start, end = period(p)
    return await group_period(ctx, [uuid.UUID(v) for v in p.get("versions") or []], start, end)


def period(p: dict[str, Any]) -> tuple[datetime.date, datetime.date]:
    start, end = month(p.get("from"), "from"), month(p.get("to") or p.get("from"), "to")
    if end < start:
        raise JobRejected("to: the period ends before it starts", field="to")
    return start, end


async def group_period(
    ctx: JobContext, versions: list[uuid.UUID], start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    # The period's partitions of case_grouping, in a short transaction of its own before this one
    # touches case_grouping: creating one (once a year) locks the parent, which must not last the job.
    async with ctx.db.session(ctx.scope) as ps, ps.begin():
        for year in range(start.year, end.year + 1):
            await ensure_year_partition(ps, "case_grouping", year)
    s = ctx.session
    if not versions:
        v = await default_version(s, await parent_city(s, ctx.tenant_id), end)
        if v is None:
            raise JobRejected("no scheme version to group with: publish a standard or name one", field="versions")
        versions = [v]
    groupers: dict[uuid.UUID, Grouper] = {}
    for v in versions:
        status = (await s.execute(select(DrgSchemeVersion.status).where(DrgSchemeVersion.id == v))).scalar_one_or_none()
        if status is None:
            raise JobRejected(f"versions: no scheme version {v}", field="versions")
        try:
            groupers[v] = await grouper_for(s, v)
        except StandardsError as e:
            raise JobRejected(f"versions: {e}", field="versions") from e
    total = (
        await s.execute(
            text(
                f"select count(*) from case_record where tenant_id = :t and {current_cases()} "
                "and discharge_month between :a and :b"
            ),
            {"t": ctx.tenant_id, "a": start, "b": end},
        )
    ).scalar_one()
    await ctx.progress(0, total * len(versions), "grouping")
    staged = await stage(
        s,
        "grouping_results",
        (
            ("version_id", "uuid"),
            ("case_id", "bigint"),
            ("year", "smallint"),
            ("hospital_id", "text"),
            ("mdc", "text"),
            ("adrg", "text"),
            ("drg", "text"),
            ("status", "text"),
            ("mcc", "text[]"),
            ("cc", "text[]"),
            ("messages", "jsonb"),
        ),
    )
    pg = await raw_connection(s)  # asyncpg: the cursor
    counts = {str(v): {"grouped": 0, "ungroupable": 0, "ambiguous": 0} for v in versions}
    done = 0
    # One server-side cursor over the period's cases (raw asyncpg records, no ORM rows), read in
    # batches; each batch's results go to the temporary table by one COPY.
    cursor = await pg.cursor(
        f"select {', '.join(FAST_COLUMNS)} from case_record where tenant_id = $1 and {current_cases()} "
        "and discharge_month between $2 and $3",
        ctx.tenant_id,
        start,
        end,
    )
    while rows := await cursor.fetch(FETCH):
        lines, inputs = [], fast_inputs(rows)
        for v, g in groupers.items():
            lines.extend(result_lines(g, str(v), rows, inputs, counts[str(v)]))
        await staged.copy_lines(lines)
        done += len(rows) * len(versions)
        await ctx.progress(done, total * len(versions), f"{done:,} groupings")
    await s.execute(
        text(f"""
        insert into case_grouping (tenant_id, version_id, {", ".join(RESULT_COLUMNS)}, job_id, grouped_at)
        select cast(:t as varchar), version_id, {", ".join(RESULT_COLUMNS)}, cast(:job as uuid), now()
        from grouping_results
        on conflict (tenant_id, case_id, version_id, year) do update set
          hospital_id = excluded.hospital_id, mdc = excluded.mdc, adrg = excluded.adrg, drg = excluded.drg,
          status = excluded.status, mcc = excluded.mcc, cc = excluded.cc, messages = excluded.messages,
          job_id = excluded.job_id, grouped_at = excluded.grouped_at
        -- A result that did not change is not written again: its job and time stay those of the
        -- job that last changed it (a regroup that changes nothing writes nothing).
        where (case_grouping.hospital_id, case_grouping.mdc, case_grouping.adrg, case_grouping.drg,
               case_grouping.status, case_grouping.mcc, case_grouping.cc, case_grouping.messages)
          is distinct from (excluded.hospital_id, excluded.mdc, excluded.adrg, excluded.drg,
               excluded.status, excluded.mcc, excluded.cc, excluded.messages)"""),
        {"t": ctx.tenant_id, "job": ctx.job_id},
    )
    await audit.record(
        s,
        ctx.scope,
        ctx.tenant_id,
        "grouping.grouped",
        f"job:{ctx.job_id}",
        period=[str(start), str(end)],
        cases=total,
        versions=[str(v) for v in versions],
    )
    return {"cases": total, "from": str(start), "to": str(end), "versions": counts}


COMPARE = "grouping.compare"


def compared_versions(p: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        base, other = uuid.UUID(str(p["base"])), uuid.UUID(str(p["other"]))
    except (KeyError, ValueError):
        raise JobRejected("base, other: two scheme version ids are required", field="base") from None
    if base == other:
        raise JobRejected("other: compare two different versions", field="other")
    return base, other


async def check_compare_params(session: AsyncSession, tenant: str, p: dict[str, Any]) -> None:
    period(p)
    compared_versions(p)


@job_kind(COMPARE, roles={"city_admin", "region_admin"}, check=check_compare_params)
async def compare_schemes(ctx: JobContext) -> dict[str, Any]:
    """How the period's cases move between a base scheme (the city's) and another (the national):
    group under both, then count transitions by ADRG and by DRG, per hospital."""
    p = ctx.params
    start, end = period(p)
    base, other = compared_versions(p)
    grouped = await group_period(ctx, [base, other], start, end)
    s = ctx.session
    params = {"t": ctx.tenant_id, "job": ctx.job_id, "base": base, "other": other, "a": start, "b": end}
    for level in ("drg", "adrg"):
        await s.execute(
            text(f"""
            insert into grouping_comparison (tenant_id, job_id, level, hospital_id, from_code, to_code, cases)
            select cast(:t as varchar), cast(:job as uuid), '{level}', a.hospital_id,
                   coalesce(a.{level}, a.drg), coalesce(b.{level}, b.drg), count(*)
            from case_grouping a
            join case_grouping b on b.tenant_id = a.tenant_id and b.case_id = a.case_id and b.version_id = :other
            join case_record c on c.tenant_id = a.tenant_id and c.id = a.case_id
            where a.tenant_id = :t and a.version_id = :base and {current_cases("c")}
              and c.discharge_month between :a and :b
            group by 1, 2, 3, 4, 5, 6"""),
            params,
        )
    summary = (
        await s.execute(
            text("""
        select level, sum(cases) as cases, sum(cases) filter (where from_code = to_code) as same
        from grouping_comparison where tenant_id = :t and job_id = :job group by level"""),
            params,
        )
    ).all()
    shares = {
        r.level: {
            "cases": int(r.cases),
            "same": int(r.same or 0),
            "agreement": round(float((r.same or 0) / r.cases), 4) if r.cases else None,
        }
        for r in summary
    }
    return {
        "from": str(start),
        "to": str(end),
        "base": str(base),
        "other": str(other),
        "grouped": grouped,
        "by_level": shares,
    }
