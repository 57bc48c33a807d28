"""The audit queue orders open findings by the anomaly score (issue 12, item 6): a case finding takes
its cases' highest score in the latest anomaly run, a hospital finding its hospital's mean score; a
decided finding keeps its priority; recomputing what did not change writes nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text

from dianshu.db.session import scoped_session
from dianshu.scope import Scope
from dianshu.supervision.anomaly.models import CaseAnomaly, HospitalAnomaly
from dianshu.supervision.models import SupervisionFinding
from dianshu.supervision.queue import prioritise
from tests.supervision.test_anomaly import run, world, zj  # noqa: F401
from tests.test_standards_db import builtin_versions  # noqa: F401


async def _finding(s, tenant, hospital, rule, level, cases, state="open", subject=True):
    fid = uuid.uuid4()
    await s.execute(
        text(
            "insert into supervision_finding (tenant_id, id, hospital_id, rule, level, year, fingerprint, severity, "
            "state, stale, unit, evidence, last_seen_run) values (:t, :id, :h, :r, :l, 2025, :fp, 'high', :st, "
            "false, 'share', '{}', :run)"
        ),
        {"t": tenant, "id": fid, "h": hospital, "r": rule, "l": level, "fp": f"test-{fid}", "st": state, "run": fid},
    )
    for list_id, case_id in cases:
        await s.execute(
            text(
                "insert into supervision_finding_case (tenant_id, finding_id, list_id, hospital_id, case_id, subject) "
                "values (:t, :f, :l, :h, :c, :s)"
            ),
            {"t": tenant, "f": fid, "l": list_id, "h": hospital, "c": case_id, "s": subject},
        )
    return fid


async def test_open_findings_are_ordered_by_their_anomaly_scores(db, world):  # noqa: F811
    w = world
    system = Scope.system((w.a,))
    async with scoped_session(db, system) as s:
        cases = {
            r.list_id: (r.id, r.hospital_id)
            for r in (
                await s.execute(
                    text("select id, list_id, hospital_id from case_record where tenant_id = :t and is_current"),
                    {"t": w.a},
                )
            ).all()
        }
        ordinary = next(lid for lid, (_, h) in sorted(cases.items()) if h == w.hospitals["a1"])
        planted = await _finding(s, w.a, w.a2, "split_admission", "case", [("PLANTED", cases["PLANTED"][0])])
        plain = await _finding(s, w.a, w.hospitals["a1"], "bed_hanging", "case", [(ordinary, cases[ordinary][0])])
        hospital = await _finding(s, w.a, w.hospitals["a3"], "high_cost", "hospital", [])
        # An upcoding signal lists its evidence cases: it still takes its hospital's mean, not their score.
        a3_case = next(lid for lid, (_, h) in sorted(cases.items()) if h == w.hospitals["a3"])
        signal = await _finding(
            s, w.a, w.hospitals["a3"], "upcoding_mcc_share", "hospital", [(a3_case, cases[a3_case][0])], subject=False
        )
        decided = await _finding(s, w.a, w.a2, "upcoding", "case", [("PLANTED", cases["PLANTED"][0])], "dismissed")

    # The anomaly job sets the open findings' priorities at its end.
    result = await run(db, w, w.a)
    run_id = uuid.UUID(result["anomaly_run"])
    async with scoped_session(db, system) as s:
        score = {
            r.list_id: r.score
            for r in (await s.execute(select(CaseAnomaly).where(CaseAnomaly.run_id == run_id))).scalars()
        }
        mean = {
            r.hospital_id: r.mean_score
            for r in (await s.execute(select(HospitalAnomaly).where(HospitalAnomaly.run_id == run_id))).scalars()
        }
        got = {
            f.id: f.priority
            for f in (await s.execute(select(SupervisionFinding).where(SupervisionFinding.tenant_id == w.a))).scalars()
        }
        assert got[planted] == score["PLANTED"]
        assert got[plain] == score[ordinary]
        assert got[hospital] == mean[w.hospitals["a3"]]
        assert got[signal] == mean[w.hospitals["a3"]] != score[a3_case]
        assert got[decided] is None  # decided before the run: its priority is left alone
        # The planted case is the most unusual of the region: its finding heads the queue.
        queue = (
            await s.execute(
                select(SupervisionFinding.id)
                .where(SupervisionFinding.tenant_id == w.a, SupervisionFinding.state == "open")
                .order_by(SupervisionFinding.priority.desc().nulls_last())
            )
        ).scalars()
        assert next(iter(queue)) == planted
        # Nothing changed since: recomputing writes nothing.
        assert await prioritise(s, [w.a], 2025) == 0
