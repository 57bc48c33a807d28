"""Every tenant-scoped table, filled through the real paths (roster, ingestion with a refused row,
grouping, comparison), read as the runtime role from every other scope: another region sees none
of the tenant's rows, another hospital none of the hospital's, and a scope with no tenants nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, text

from dianshu.cases.ingest import BatchRequest
from dianshu.cases.service import submit_batch
from dianshu.db.session import scoped_session, sync_url
from dianshu.grouping.service import COMPARE
from dianshu.jobs import service as jobs
from dianshu.scope import Role, Scope
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.evaluation.world import builtin_catalogue_version  # noqa: F401
from tests.test_standards_db import builtin_versions  # noqa: F401


def tenant_tables(owner_url: str, partitions: bool = False) -> dict[str, bool]:
    """table -> has a hospital_id column (every table with tenant_id: plain tables and partitioned
    parents; with `partitions`, the partitions instead)."""
    engine = create_engine(sync_url(owner_url), poolclass=pool.NullPool)
    with engine.connect() as c:
        rows = c.execute(
            text("""
            select c.relname,
                   exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'hospital_id'
                           and not a.attisdropped) as has_hospital
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relispartition = :partitions and exists (
              select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
        """),
            {"partitions": partitions},
        ).all()
    engine.dispose()
    return {r.relname: r.has_hospital for r in rows}


async def test_every_tenant_table_against_every_other_scope(
    db,
    test_database,
    city,
    dispatcher,
    builtin_versions,  # noqa: F811
    builtin_catalogue_version,  # noqa: F811
):
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    region_a = scope_for(Role.region_admin, (city.a,))
    # Hospital A1 sends its own cases (one refused row); region A compares the schemes.
    await send(db, a1, city.a, csv_bytes([row("I1", city.a1), row("I2", city.a1, gend="9")]), "iso")
    async with scoped_session(db, region_a) as s:
        job, _ = await jobs.submit(
            s,
            db,
            region_a,
            city.a,
            COMPARE,
            {
                "from": "2024-03",
                "base": str(builtin_versions["zhejiang_2022"]),
                "other": str(builtin_versions["chs_drg_11"]),
            },
        )
    assert await jobs.execute(db, city.a, job.id) == "succeeded"
    from dianshu.settlement.runs.policies import set_region_policy

    async with scoped_session(db, region_a) as s:
        await set_region_policy(s, region_a, city.city, city.a, 2025, "employee", {"reserve_ratio": "0.04"}, "test")

    await fill_settlement_tables(db, city, builtin_versions["zhejiang_2022"])
    await fill_evaluation_tables(db, city)
    # An evaluation run of region A from everything above (the catalogue in force, the computed and
    # the entered indicators): results, dimension and indicator scores, the peers' percentiles.
    from dianshu.evaluation.runs import RUN
    from tests.settlement.world import run_job

    await run_job(db, region_a, city.a, RUN, {"year": 2025})
    await fill_supervision_tables(db, city, builtin_versions["zhejiang_2022"])
    await fill_supervision_signal_tables(db, city)
    await fill_training_tables(db, city)
    await fill_national_tables(db, city)
    await fill_analytics_tables(db, city)
    # A batch still pending keeps its file's bytes (upload_chunk); a final one has none.
    await submit_batch(db, a1, BatchRequest(city.a, "pending.csv", "iso-pending"), [csv_bytes([row("I3", city.a1)])])

    tables = tenant_tables(test_database.owner_url)
    assert {
        "case_record",
        "case_grouping",
        "grouping_comparison",
        "upload",
        "upload_chunk",
        "ingestion_batch",
        "ingestion_error",
        "hospital",
        "job",
        "audit_log",
        "evaluation_entry",
        "signal_run",
        "hospital_signal",
        "anomaly_run",
        "case_anomaly",
        "hospital_anomaly",
        "training_course",
        "training_session",
        "training_person",
        "training_attendance",
        "national_export",
        "national_export_item",
        "analytics_cell",
        "analytics_month",
        "analytics_refresh",
        "case_point",  # partitioned by year: read through the parent, as every query does
    } <= set(tables)
    # The partitions themselves (case_point_y2025 …) are out of the runtime role's reach altogether.
    partitions = tenant_tables(test_database.owner_url, partitions=True)
    assert "case_point_y2025" in partitions
    for table in partitions:
        with pytest.raises(Exception, match="permission denied"):
            async with scoped_session(db, Scope.system((city.a,))) as s:
                await s.execute(text(f"select count(*) from {table}"))

    async def count(scope, table, where=""):
        async with scoped_session(db, scope) as s:
            return (
                await s.execute(text(f"select count(*) from {table} where tenant_id = :t {where}"), {"t": city.a})
            ).scalar()

    for table, has_hospital in tables.items():
        assert await count(Scope.system((city.a,)), table) > 0, f"{table}: the test left it empty"
        assert await count(scope_for(Role.region_admin, (city.b,)), table) == 0, f"{table}: region B sees A"
        assert await count(scope_for(Role.city_admin, (city.b,)), table) == 0, table
        empty = Scope(Role.region_admin, (), all_hospitals=True)
        assert await count(empty, table) == 0, f"{table}: an empty scope sees rows"
        if has_hospital or table == "hospital":
            col = "id" if table == "hospital" else "hospital_id"
            a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
            assert await count(a2, table, f"and {col} = '{city.a1}'") == 0, f"{table}: hospital A2 sees A1"
            assert await count(scope_for(Role.expert, (city.a,), None), table) == 0, f"{table}: expert sees rows"

    await check_across_scopes(db, city)


async def check_across_scopes(db, city):
    """The workstation check reads cases under the caller's scope. With region A's readmission
    looked for in the whole region (readmission_same_hospital off), a draft for patient PA-1 (stay
    A-1 at a1, discharged 2025-03-06) finds that stay when region A checks it for a2, and nothing
    when hospital a2 itself checks it: row-level security hides a1's case. Region B and an expert
    of A cannot check for a1 at all."""

    from dianshu.settlement.runs.policies import set_region_policy
    from dianshu.workstation.draft import DraftRefused
    from dianshu.workstation.service import StandingCache, check_draft
    from tests.workstation.test_workstation_api import draft

    region_a = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region_a) as s:
        policy = {"provisional_point_value": "100", "readmission_same_hospital": False}
        await set_region_policy(s, region_a, city.city, city.a, 2025, "employee", policy, "region-wide readmissions")
    cache = StandingCache()
    d = draft(patient_id="PA-1")
    seen = await check_draft(db, region_a, d, city.a2, cache=cache)
    assert seen.last_stay is not None and seen.last_stay.list_id == "A-1"
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    hidden = await check_draft(db, a2, d, cache=cache)
    assert hidden.standing.hospital == city.a2 and hidden.last_stay is None
    for scope in (scope_for(Role.region_admin, (city.b,)), scope_for(Role.expert, (city.a,), None)):
        with pytest.raises(DraftRefused) as refused:
            await check_draft(db, scope, d, city.a1, cache=cache)
        assert refused.value.field == "hospital" and refused.value.kind == "not_found"


async def fill_settlement_tables(db, city, zj):
    """A settled month, an alliance, a score, a violation, a deduction and a special review with its
    experts in region A."""
    from tests.settlement.world import fill_region_inputs, load_year, publish_standard

    await publish_standard(db, city, zj)
    region = await load_year(db, city, zj)
    await fill_region_inputs(db, region, city, "iso")


async def fill_evaluation_tables(db, city):
    """An entered indicator value of hospital A1 (the bureau enters it through the service)."""
    from dianshu.evaluation.entries import enter_indicator

    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        await enter_indicator(s, region, city.a, city.a1, 2025, "E01", "90", "iso")


async def fill_supervision_tables(db, city, zj):
    """A split admission at hospital A1 (readmitted two days after discharge), found by the
    supervision run and confirmed by the region: findings, their cases, the violation."""
    from dianshu.grouping.service import GROUP_CASES
    from dianshu.supervision import service
    from tests.settlement.world import run_job, stay
    from tests.supervision.helpers import findings, supervise

    region = scope_for(Role.region_admin, (city.a,))
    rows = [stay("S-1", city.a1, 8000, 7, patient="PS", day=10), stay("S-2", city.a1, 8000, 7, patient="PS", day=17)]
    await send(db, region, city.a, csv_bytes(rows), "iso-supervision")
    await run_job(db, region, city.a, GROUP_CASES, {"from": "2025-07", "to": "2025-07", "versions": [str(zj)]})
    await supervise(db, region, city.a, version=str(zj))
    ((f, _),) = await findings(db, (city.a,), "split_admission")
    async with scoped_session(db, region) as s:
        await service.decide(s, region, f.id, "confirmed", "iso", True)


async def fill_supervision_signal_tables(db, city):
    """A signals run and an anomaly run of region A's settled year (signal_run, hospital_signal,
    anomaly_run, case_anomaly, hospital_anomaly)."""
    from dianshu.supervision.anomaly.service import ANOMALY
    from dianshu.supervision.signals.service import SIGNALS
    from tests.settlement.world import run_job

    region = scope_for(Role.region_admin, (city.a,))
    await run_job(db, region, city.a, SIGNALS, {"year": 2025})
    await run_job(db, region, city.a, ANOMALY, {"year": 2025})


async def fill_training_tables(db, city):
    """A course and a session of region A, a coder of hospital A1 and the coder's attendance with a
    score (training_course, training_session, training_person, training_attendance)."""
    import datetime

    from dianshu.training.attendance import Line, record_lines
    from dianshu.training.service import save_course, save_person, save_session

    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        await save_course(s, region, city.a, "C-ISO", "coding", "编码培训")
        await save_session(s, region, city.a, "S-ISO", "C-ISO", datetime.date(2025, 3, 6), "讲师甲", "2", "region")
        await save_person(s, region, city.a, "P-ISO-1", city.a1, "coder", active_from=datetime.date(2025, 1, 1))
        out = await record_lines(s, region, city.a, [Line("input", "S-ISO", "P-ISO-1", city.a1, "coder", "90")], {})
    assert out.recorded == 1 and out.errors == []


async def fill_national_tables(db, city):
    """Region A's national upload of 2024-03 (hospital A1's case I1): national_export (a region file,
    no hospital) and national_export_item (A1's list)."""
    from dianshu.national.service import NATIONAL_EXPORT
    from tests.settlement.world import run_job

    region = scope_for(Role.region_admin, (city.a,))
    await run_job(db, region, city.a, NATIONAL_EXPORT, {"month": "2024-03"})


async def fill_analytics_tables(db, city):
    """Region A's 2025 analytics summaries (analytics_cell and analytics_month per hospital,
    analytics_refresh) from the
    settled year above."""
    from dianshu.analytics.refresh import REFRESH
    from tests.settlement.world import run_job

    region = scope_for(Role.region_admin, (city.a,))
    await run_job(db, region, city.a, REFRESH, {"year": 2025})
