"""The anomaly ranking: features computed right for hand cases, determinism under the seed, a planted
extreme case ranked first with the expected driver, hospital scores, and who sees what."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal as D

import numpy as np
import pytest
from sqlalchemy import select, text

from dianshu.db.copy import raw_connection
from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from dianshu.supervision.anomaly import service
from dianshu.supervision.anomaly.features import FEATURES, load_features
from dianshu.supervision.anomaly.model import robust_z, score_cases
from dianshu.supervision.anomaly.models import CaseAnomaly, HospitalAnomaly
from dianshu.supervision.signals.coverage import coverage
from tests.conftest import scope_for
from tests.settlement.world import run_job
from tests.supervision.world import load, provision, standard, stay
from tests.test_standards_db import builtin_versions  # noqa: F401

SCALES = (D("0.9"), D("0.95"), D(1), D("1.05"), D("1.1"))


@pytest.fixture
async def zj(builtin_versions):  # noqa: F811
    return builtin_versions["zhejiang_2022"]


async def features_of(db, w, tenant=None):
    tenant = tenant or w.a
    async with scoped_session(db, Scope.system((tenant,))) as s:
        cov = await coverage(s, tenant, 2025)
        f = await load_features(
            await raw_connection(s),
            [tenant],
            cov.standard.scheme_version_id,
            cov.standard.id,
            cov.standard.avg_cost_all,
            2025,
            365,
        )
        ids = {
            r.id: r.list_id
            for r in await s.execute(text("select id, list_id from case_record where tenant_id = :t"), {"t": tenant})
        }
    return {ids[int(i)]: dict(zip(FEATURES, f.X[k].tolist(), strict=True)) for k, i in enumerate(f.ids)}


async def test_features_of_hand_cases(owner_db, db, dispatcher, zj):
    # X1: a1, patient P, pneumonia with a CC (ES23), 8,000 yuan, LOS 5, discharged 6 March.
    # X2: a1, patient P again, ES23, every charge × 1.5 (12,000 yuan), LOS 10, admitted 16 March: gap 10.
    # X3: a2, with an MCC (ES21), 8,000 yuan, LOS 5. The standard prices only ES23 (8,000); ES21 falls
    # back on avg_cost_all (8,000).
    # Charges of the base stay (of 8,000): drugs 3,800 + 0 + 200 = 4,000 (.5); materials 500 (.0625);
    # examination + laboratory 900 + 800 = 1,700 (.2125); own-pay 500 (.0625), all × 1.5 in X2.
    # X2: cost ratio 12,000 / 8,000 = 1.5; LOS ratio 10 / mean(5, 10) = 1.3333...; 0 MCC, 1 CC, mix 0.
    # X1: cost 1, LOS 5 / 7.5 = .6667, gap the cap (365: no earlier stay). X3: cost 1, LOS 5 / 5 = 1,
    # 1 MCC, 0 CC, mix 1, gap 365.
    w = await provision(owner_db, db)
    await standard(db, w, zj)
    await load(
        db,
        w.a,
        [
            stay(w.a1, datetime.date(2025, 3, 6), dx="cc", patient="P", list_id="X1"),
            stay(w.a1, datetime.date(2025, 3, 26), los=10, dx="cc", patient="P", list_id="X2", scale=D("1.5")),
            stay(w.a2, datetime.date(2025, 3, 6), dx="mcc", list_id="X3"),
        ],
        zj,
    )
    got = await features_of(db, w)
    shares = {"drug_share": 0.5, "materials_share": 0.0625, "exam_lab_share": 0.2125, "own_pay_share": 0.0625}
    expected = {
        "X1": {"cost_ratio": 1, "los_ratio": 5 / 7.5, "mcc_count": 0, "cc_count": 1, "complication_mix": 0,
               "readmission_gap": 365, **shares},
        "X2": {"cost_ratio": 1.5, "los_ratio": 10 / 7.5, "mcc_count": 0, "cc_count": 1, "complication_mix": 0,
               "readmission_gap": 10, **shares},
        "X3": {"cost_ratio": 1, "los_ratio": 1, "mcc_count": 1, "cc_count": 0, "complication_mix": 1,
               "readmission_gap": 365, **shares},
    }  # fmt: skip
    assert set(got) == set(expected)
    for lid, feats in expected.items():
        for name, value in feats.items():
            assert got[lid][name] == pytest.approx(value, abs=1e-12), (lid, name)


def test_robust_z_by_hand():
    # One feature, DRG 0: 1, 2, 3, 4, 100 -> median 3, Q1 2, Q3 4, IQR 2, scale 2 / 1.349:
    # z(100) = 97 × 1.349 / 2 = 65.4265. DRG 1: 5, 5 (IQR 0) -> the feature's IQR over all seven values
    # (1, 2, 3, 4, 5, 5, 100: Q1 2.5, Q3 5, IQR 2.5) -> z(5) = 0.
    X = np.array([[1.0], [2.0], [3.0], [4.0], [100.0], [5.0], [5.0]])
    groups = np.array([0, 0, 0, 0, 0, 1, 1])
    z, med = robust_z(X, groups)
    assert med[:, 0].tolist() == [3, 3, 3, 3, 3, 5, 5]
    assert z[4, 0] == pytest.approx(97 * 1.349 / 2) and z[5, 0] == 0
    assert z[0, 0] == pytest.approx(-2 * 1.349 / 2)


def test_the_model_is_deterministic_under_its_seed():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(2000, len(FEATURES)))
    groups = rng.integers(0, 20, size=2000)
    ids = np.arange(2000)
    a = score_cases(X, groups, ids, seed=42, trees=50, max_samples=256)
    b = score_cases(X, groups, ids, seed=42, trees=50, max_samples=256)
    assert np.array_equal(a.score, b.score) and np.array_equal(a.rank, b.rank)
    assert np.array_equal(a.drivers, b.drivers)
    c = score_cases(X, groups, ids, seed=43, trees=50, max_samples=256)
    assert not np.array_equal(a.score, c.score)


def ordinary_rows(w):
    """Eight stays in each of a1..a5: costs 8,000 × 0.9 ... 1.1, LOS 4, 5 or 6, with or without a CC."""
    rows = []
    for n, name in enumerate(("a1", "a2", "a3", "a4", "a5")):
        for i in range(8):
            k = n * 8 + i
            rows.append(
                stay(
                    w.hospitals[name],
                    datetime.date(2025, 1 + k % 12, 10),
                    los=4 + k % 3,
                    dx="cc" if k % 2 else "none",
                    scale=SCALES[k % 5],
                )
            )
    return rows


@pytest.fixture
async def world(owner_db, db, dispatcher, zj):
    w = await provision(owner_db, db)
    await standard(db, w, zj)
    # The planted case: a2, every charge × 10 (80,000 yuan, cost ratio 10), otherwise ordinary.
    rows = [*ordinary_rows(w), stay(w.a2, datetime.date(2025, 6, 20), dx="cc", scale=10, list_id="PLANTED")]
    await load(db, w.a, rows, zj)
    await load(db, w.b, [stay(w.b1, datetime.date(2025, m, 6), scale=SCALES[m % 5]) for m in range(1, 7)], zj)
    return w


async def run(db, w, tenant):
    return await run_job(db, scope_for(Role.region_admin, (tenant,)), tenant, service.ANOMALY, {"year": 2025})


async def case_rows(db, tenant, run_id, scope=None):
    async with scoped_session(db, scope or Scope.system((tenant,))) as s:
        C = CaseAnomaly
        q = select(C).where(C.tenant_id == tenant, C.run_id == run_id).order_by(C.rank)
        return list((await s.execute(q)).scalars())


async def test_the_planted_case_ranks_first_with_its_driver(db, world):
    w = world
    result = await run(db, w, w.a)
    assert result["cases"] == 41 and result["peers"] == "region"
    rows = await case_rows(db, w.a, uuid.UUID(result["anomaly_run"]))
    assert [r.rank for r in rows] == list(range(1, 42))
    top = rows[0]
    assert (top.list_id, top.hospital_id, top.drg) == ("PLANTED", w.a2, "ES23")
    # Its cost ratio 80,000 / 8,000 = 10 against ES23's median of 1 (the ordinary ES23 stays' ratios
    # are 0.9 ... 1.1, 1 in the middle).
    assert (top.driver_1, top.driver_1_value, top.driver_1_median) == ("cost_ratio", D("10.0000"), D("1.0000"))
    assert top.score > rows[1].score and D(0) < top.score <= D(100)
    assert all(r.score == r.score.quantize(D("0.01")) for r in rows)


async def test_same_seed_twice_gives_identical_scores(db, world):
    w = world
    first = await run(db, w, w.a)
    second = await run(db, w, w.a)
    assert first["anomaly_run"] != second["anomaly_run"]
    a = {(r.case_id): (r.score, r.rank, r.driver_1) for r in await case_rows(db, w.a, uuid.UUID(first["anomaly_run"]))}
    b = {(r.case_id): (r.score, r.rank, r.driver_1) for r in await case_rows(db, w.a, uuid.UUID(second["anomaly_run"]))}
    assert a == b


async def test_hospital_scores_and_the_queue_ordering_map(db, world):
    w = world
    result = await run(db, w, w.a)
    run_id = uuid.UUID(result["anomaly_run"])
    rows = await case_rows(db, w.a, run_id)
    async with scoped_session(db, Scope.system((w.a,))) as s:
        H = HospitalAnomaly
        hospitals = {
            h.hospital_id: h
            for h in (await s.execute(select(H).where(H.tenant_id == w.a, H.run_id == run_id))).scalars()
        }
        scores = await service.case_anomaly_scores(s, w.a, 2025)
    # 41 cases: the top decile is ranks 1..5 (⌈41 / 10⌉).
    for h, ha in hospitals.items():
        mine = [r for r in rows if r.hospital_id == h]
        mean = (sum(r.score for r in mine) / len(mine)).quantize(D("0.01"))
        top = sum(1 for r in mine if r.rank <= 5)
        assert (ha.cases, ha.mean_score, ha.top_decile_cases) == (len(mine), mean, top)
        assert ha.top_decile_share == (D(top) / len(mine)).quantize(D("0.0001"))
    assert sorted(h.rank for h in hospitals.values()) == [1, 2, 3, 4, 5]
    assert sum(h.top_decile_cases for h in hospitals.values()) == 5
    assert scores[(w.a2, "PLANTED")] == rows[0].score and len(scores) == 41


async def test_a_hospital_sees_only_its_own_anomalies(db, world):
    w = world
    result = await run(db, w, w.a)
    run_id = uuid.UUID(result["anomaly_run"])
    a1 = scope_for(Role.hospital_user, (w.a,), w.a1)
    mine = await case_rows(db, w.a, run_id, scope=a1)
    assert len(mine) == 8 and {r.hospital_id for r in mine} == {w.a1}
    async with scoped_session(db, a1) as s:
        assert set(h for h, _ in await service.case_anomaly_scores(s, w.a, 2025)) == {w.a1}
        assert [h.hospital_id for h in await service.hospital_anomalies(s, await service.latest_run(s, w.a, 2025))] == [
            w.a1
        ]
    a2 = scope_for(Role.hospital_user, (w.a,), w.a2)
    assert w.a1 not in {r.hospital_id for r in await case_rows(db, w.a, run_id, scope=a2)}
    other = scope_for(Role.region_admin, (w.b,))
    assert await case_rows(db, w.a, run_id, scope=other) == []
    async with scoped_session(db, other) as s:
        assert await service.case_anomaly_scores(s, w.a, 2025) == {}
        for table in ("anomaly_run", "hospital_anomaly"):
            assert (
                await s.execute(text(f"select count(*) from {table} where tenant_id = :t"), {"t": w.a})
            ).scalar() == 0
