"""The grouping job over stored cases: both schemes, regrouping, recalls, periods, scope."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select, text

from dianshu.db.session import scoped_session
from dianshu.grouping.models import CaseGrouping
from dianshu.grouping.service import GROUP_CASES
from dianshu.jobs import service as jobs
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.settlement.runs.publish import recall_case
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.test_standards_db import builtin_versions  # noqa: F401


async def run_group(db, scope, tenant, params):
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, tenant, GROUP_CASES, params)
    outcome = await jobs.execute(db, tenant, job.id)
    async with scoped_session(db, Scope.system((tenant,))) as s:
        job = (await s.execute(select(Job).where(Job.id == job.id))).scalar_one()
    return outcome, job


async def results(db, scope):
    async with scoped_session(db, scope) as s:
        rows = (await s.execute(select(CaseGrouping))).scalars().all()
    return rows


async def test_group_and_regroup_under_two_schemes(db, owner_db, city, dispatcher, builtin_versions):  # noqa: F811
    region = scope_for(Role.region_admin, (city.a,))
    rows = [
        row("P1", city.a1),  # J18.900 + I10.x00x002: CHS ES35, ZJ ES25 (adult)
        row("P2", city.a2, diag_codes="J18.900|I50.900", adm_cond_types="1|3"),  # CHS: I50.900 an MCC -> ES31
        row("P3", city.a1, adm_time="2024-05-01 09:00", dscg_time="2024-05-06 10:00"),  # May: outside March
        row("P4", city.a1, diag_codes="I63.900", adm_cond_types="1", dscg_caty="ICU"),  # ZJ: BR29 (ICU)
    ]
    await send(db, region, city.a, csv_bytes(rows), "grp")
    async with scoped_session(db, region) as s:
        await recall_case(s, region, city.a, city.a1, "P1", "resend")
    chs, zj = str(builtin_versions["chs_drg_11"]), str(builtin_versions["zhejiang_2022"])
    outcome, job = await run_group(db, region, city.a, {"from": "2024-03", "to": "2024-03", "versions": [zj, chs]})
    assert outcome == "succeeded", job.error
    assert job.result["cases"] == 2  # P1 recalled, P3 in May
    got = {(r.case_id, str(r.version_id)): r for r in await results(db, Scope.system((city.a,)))}
    by_list = {}
    async with scoped_session(db, Scope.system((city.a,))) as s:
        from dianshu.cases.models import CaseRecord

        for c in (await s.execute(select(CaseRecord))).scalars():
            by_list[c.list_id] = c.id
    assert got[(by_list["P2"], chs)].drg == "ES31" and got[(by_list["P2"], chs)].mcc == ["I50.900"]
    assert got[(by_list["P4"], zj)].drg == "BR29"
    assert (by_list["P1"], chs) not in got and (by_list["P3"], chs) not in got
    # Regrouping never duplicates, and writes only what changed: with nothing changed every row
    # keeps the job that wrote it; a result that differs (here one falsified by hand) is replaced
    # and carries the new job.
    async with scoped_session(owner_db, None) as s:
        await s.execute(
            text("update case_grouping set drg = 'XX99' where case_id = :c and version_id = cast(:v as uuid)"),
            {"c": by_list["P2"], "v": chs},
        )
    outcome, job2 = await run_group(db, region, city.a, {"from": "2024-03", "versions": [zj, chs]})
    assert outcome == "succeeded", job2.error
    again = {(r.case_id, str(r.version_id)): r for r in await results(db, Scope.system((city.a,)))}
    assert len(again) == 4
    assert again[(by_list["P2"], chs)].drg == "ES31" and again[(by_list["P2"], chs)].job_id == job2.id
    assert {r.job_id for k, r in again.items() if k != (by_list["P2"], chs)} == {job.id}
    outcome, _ = await run_group(db, region, city.a, {"from": "2024-03", "versions": [zj, chs]})
    assert outcome == "succeeded"
    assert {r.job_id for r in await results(db, Scope.system((city.a,)))} == {job.id, job2.id}
    # A hospital user sees only its own hospital's groupings.
    a2 = await results(db, scope_for(Role.hospital_user, (city.a,), city.a2))
    assert {r.case_id for r in a2} == {by_list["P2"]}
    assert await results(db, scope_for(Role.region_admin, (city.b,))) == []


async def test_default_version_and_refusals(db, city, dispatcher, builtin_versions):  # noqa: F811
    region = scope_for(Role.region_admin, (city.a,))
    await send(db, region, city.a, csv_bytes([row("D1", city.a1)]), "dflt")
    outcome, job = await run_group(db, region, city.a, {"from": "2024-03"})
    assert outcome == "succeeded" and list(job.result["versions"]) == [str(builtin_versions["zhejiang_2022"])]
    # Bad periods are refused when the job is submitted, not later in the worker.
    with pytest.raises(JobRejected, match=r"from: must be a month from 1 to 12 \(got 13\)"):
        await run_group(db, region, city.a, {"from": "2024-13"})
    with pytest.raises(JobRejected, match="to: the period ends before it starts"):
        await run_group(db, region, city.a, {"from": "2024-03", "to": "2024-01"})


async def test_scheme_comparison_counts_transitions(db, city, dispatcher, builtin_versions):  # noqa: F811
    from dianshu.grouping.models import GroupingComparison
    from dianshu.grouping.service import COMPARE

    region = scope_for(Role.region_admin, (city.a,))
    rows = [
        row("C1", city.a1),
        row("C2", city.a1),
        row("C3", city.a2),
        row("C4", city.a2, diag_codes="I63.900", adm_cond_types="1"),
    ]
    await send(db, region, city.a, csv_bytes(rows), "cmp")
    zj, chs = str(builtin_versions["zhejiang_2022"]), str(builtin_versions["chs_drg_11"])
    async with scoped_session(db, region) as s:
        job, _ = await jobs.submit(s, db, region, city.a, COMPARE, {"from": "2024-03", "base": zj, "other": chs})
    assert await jobs.execute(db, city.a, job.id) == "succeeded"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        done = (await s.execute(select(Job).where(Job.id == job.id))).scalar_one()
        cmp_rows = (
            (await s.execute(select(GroupingComparison).where(GroupingComparison.job_id == job.id))).scalars().all()
        )
    drg = {(r.hospital_id, r.from_code, r.to_code): r.cases for r in cmp_rows if r.level == "drg"}
    # Pneumonia J18.900 + I10.x00x002: zhejiang_2022/cc_list.csv has I10.x00x002 (table 77, not J18.900's
    # 86): a CC, so ZJ ES23; chs_drg_11 lists it nowhere: ES35. The stroke I63.900 alone is BR25 in both.
    assert drg == {(city.a1, "ES23", "ES35"): 2, (city.a2, "ES23", "ES35"): 1, (city.a2, "BR25", "BR25"): 1}
    adrg = {(r.hospital_id, r.from_code, r.to_code): r.cases for r in cmp_rows if r.level == "adrg"}
    assert adrg == {(city.a1, "ES2", "ES3"): 2, (city.a2, "ES2", "ES3"): 1, (city.a2, "BR2", "BR2"): 1}
    assert done.result["by_level"]["drg"] == {"cases": 4, "same": 1, "agreement": 0.25}
    assert done.result["by_level"]["adrg"] == {"cases": 4, "same": 1, "agreement": 0.25}


async def test_copy_lines_round_trip_through_postgres(db, zj):
    """The job's COPY text (built by hand, not by a generic encoder) reads back as the results:
    messages quoting codes with a backslash, a quote, a comma and braces; NULL mdc/adrg; arrays."""
    from sqlalchemy import text

    from dianshu.grouping.service import fast_inputs, result_lines

    weird = 'a\\b"c,d{e}'
    rows = [
        # FAST_COLUMNS: id, hospital, sex, age, age days, weight, los, way, dxs, procs, vent, icu, dept, coding,
        # discharge year
        (
            11,
            "H1",
            1,
            60,
            None,
            None,
            5,
            1,
            ["J18.900", "I50.900", "I10.x00x002"],
            [weird, "89.5200"],
            100.0,
            None,
            None,
            "yibao",
            2025,
        ),
        (12, "H2", 2, 30, None, None, 3, 1, ["I48.900"], [], None, None, "ICU", "yibao", 2024),  # grey principal
    ]
    inputs = fast_inputs(rows)
    counts = {"grouped": 0, "ungroupable": 0, "ambiguous": 0}
    vid = "2f81fe68-35b7-49c2-bfee-499129ea4821"
    lines = result_lines(zj, vid, rows, inputs, counts)
    assert counts == {"grouped": 1, "ungroupable": 1, "ambiguous": 0}
    async with scoped_session(db, Scope.system(("none",))) as s:
        await s.execute(
            text(
                "create temporary table grouping_results (version_id uuid, case_id bigint, year smallint, "
                "hospital_id text, mdc text, adrg text, drg text, status text, mcc text[], cc text[], "
                "messages jsonb) on commit drop"
            )
        )
        pg = (await (await s.connection()).get_raw_connection()).driver_connection
        await pg.copy_to_table(
            "grouping_results",
            source=io.BytesIO("".join(lines).encode()),
            columns=[
                "version_id",
                "case_id",
                "year",
                "hospital_id",
                "mdc",
                "adrg",
                "drg",
                "status",
                "mcc",
                "cc",
                "messages",
            ],
            format="text",
        )
        back = (await s.execute(text("select * from grouping_results order by case_id"))).mappings().all()
    first, grey = back
    expected = zj.group(inputs[0])
    assert (str(first["version_id"]), first["case_id"], first["year"], first["hospital_id"]) == (vid, 11, 2025, "H1")
    assert grey["year"] == 2024
    assert (first["mdc"], first["adrg"], first["drg"], first["status"]) == (
        expected.mdc,
        expected.adrg,
        expected.drg,
        "grouped",
    )
    # zhejiang_2022: cc_list.csv:2295 I10.x00x002 (table 77) and J18.900's exclusion table 86
    # (cc_exclusion_by_pdx.csv:11688): a CC; I50.900 is in neither list.
    assert first["mcc"] == [] and first["cc"] == ["I10.x00x002"]
    assert {
        "level": "warning",
        "field": "procedures[1]",
        "text": f"principal procedure {weird} is not a 医保版 v2.0 code",
    } in first["messages"]
    assert {
        "level": "warning",
        "field": "vent_hours",
        "text": "vent_hours=100 but no invasive ventilation (96.71/96.72) coded",
    } in first["messages"]
    assert first["messages"] == [m.to_dict() for m in expected.messages]
    assert (grey["mdc"], grey["adrg"], grey["drg"], grey["status"], grey["mcc"]) == (
        None,
        None,
        "0000",
        "ungroupable",
        [],
    )
    assert grey["messages"][0]["level"] == "error" and "grey code" in grey["messages"][0]["text"]


async def test_many_small_batches(db, city, dispatcher, builtin_versions, monkeypatch):  # noqa: F811
    """One case per cursor batch: every case grouped once per version, none lost between batches."""
    import dianshu.grouping.service as service

    monkeypatch.setattr(service, "FETCH", 1)
    region = scope_for(Role.region_admin, (city.a,))
    rows = [row(f"B{i}", city.a1) for i in range(3)] + [row("B9", city.a2, diag_codes="I63.900", adm_cond_types="1")]
    await send(db, region, city.a, csv_bytes(rows), "batches")
    chs, zj = str(builtin_versions["chs_drg_11"]), str(builtin_versions["zhejiang_2022"])
    outcome, job = await run_group(db, region, city.a, {"from": "2024-03", "versions": [zj, chs]})
    assert outcome == "succeeded", job.error
    assert job.result["versions"] == {v: {"grouped": 4, "ungroupable": 0, "ambiguous": 0} for v in (zj, chs)}
    got = await results(db, Scope.system((city.a,)))
    # J18.900 + I10.x00x002 (row's default): ZJ ES23, CHS ES35 (test_scheme_comparison); I63.900: BR25 in both.
    assert sorted((str(r.version_id), r.drg) for r in got) == sorted(
        [(zj, "ES23")] * 3 + [(chs, "ES35")] * 3 + [(zj, "BR25"), (chs, "BR25")]
    )


async def test_results_table_leaves_room_for_in_place_updates(db):
    """Each year's partition of case_grouping (migration 0023) keeps 0011's fillfactor 50."""
    from sqlalchemy import text

    async with scoped_session(db, Scope.system(("none",))) as s:
        await s.execute(text("select dianshu_year_partition('case_grouping', 2024)"))
        options = (
            await s.execute(
                text(
                    "select c.relname, c.reloptions from pg_inherits i join pg_class c on c.oid = i.inhrelid "
                    "where i.inhparent = 'case_grouping'::regclass"
                )
            )
        ).all()
    assert options and all(o == ["fillfactor=50"] for _, o in options), options
    assert "case_grouping_y2024" in {name for name, _ in options}


async def test_a_period_across_new_year_writes_each_case_to_its_discharge_years_partition(
    db,
    city,
    dispatcher,
    builtin_versions,  # noqa: F811
):
    """December 2024 and January 2025 grouped by one job: each grouping carries its case's
    discharge year and sits in that year's partition (migration 0023); a regroup of the same period
    changes nothing."""
    region = scope_for(Role.region_admin, (city.a,))
    rows = [
        row("NY1", city.a1, adm_time="2024-12-20 09:00", dscg_time="2024-12-28 10:00", act_ipt_days="8"),
        row("NY2", city.a1, adm_time="2024-12-28 09:00", dscg_time="2025-01-03 10:00", act_ipt_days="6"),
    ]
    _, ingested, result, _ = await send(db, region, city.a, csv_bytes(rows), "new-year")
    assert (ingested, result["accepted"]) == ("succeeded", 2), result
    zj = str(builtin_versions["zhejiang_2022"])
    params = {"from": "2024-12", "to": "2025-01", "versions": [zj]}
    outcome, job = await run_group(db, region, city.a, params)
    assert outcome == "succeeded", job.error
    sql = text(
        "select c.list_id, g.year, g.tableoid::regclass::text as part from case_grouping g "
        "join case_record c on c.tenant_id = g.tenant_id and c.id = g.case_id "
        "where g.tenant_id = :t and c.list_id in ('NY1', 'NY2') and g.version_id = :v order by 1"
    )
    async with scoped_session(db, Scope.system((city.a,))) as s:
        got = [tuple(r) for r in (await s.execute(sql, {"t": city.a, "v": zj})).all()]
    assert got == [("NY1", 2024, "case_grouping_y2024"), ("NY2", 2025, "case_grouping_y2025")]
    outcome, again = await run_group(db, region, city.a, params)
    assert outcome == "succeeded", again.error
    async with scoped_session(db, Scope.system((city.a,))) as s:
        jobs_of = (
            "select distinct g.job_id from case_grouping g join case_record c on c.tenant_id = g.tenant_id "
            "and c.id = g.case_id where g.tenant_id = :t and g.version_id = :v and c.list_id in ('NY1', 'NY2')"
        )
        assert {r[0] for r in (await s.execute(text(jobs_of), {"t": city.a, "v": zj})).all()} == {job.id}
