"""The CLI end to end: the demo pipeline (twice: it is safe to re-run) and token minting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

from dianshu.scope import Role
from dianshu.tenancy import pilot
from dianshu_tenants.identity import TokenCodec
from tests.api import Api
from tests.conftest import TEST_STATE

DIANSHU = str(Path(sys.executable).parent / "dianshu")


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        # Chinese unless `--lang en` (whatever the locale of the machine running the tests)
        [DIANSHU, *args],
        env={**os.environ, "DIANSHU_LANG": "zh", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_demo_provisions_the_pilot_city_through_jobs_and_is_idempotent(settings, db):
    first = run("demo", "--no-serve")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "9/9" in first.stderr and "150" in first.stdout + first.stderr
    second = run("--lang", "en", "demo", "--no-serve")  # the second in English: the same, said in English
    assert second.returncode == 0, second.stderr[-3000:]
    assert "(0 new)" in second.stderr and "（新增 0 个）" not in second.stderr
    assert "统筹区" in first.stderr + first.stdout  # Chinese by default
    # Tables on stdout, progress and messages on stderr (issue 14: log lines never inside a table).
    said = first.stdout + first.stderr
    assert "2025 年终清算：各统筹区对比" in first.stdout and "的结算单" in said
    # Issue 12: supervision and the evaluation ran, the scores by dimension and the findings printed.
    assert "医院考核评价 2025：各维度得分" in said and "智能监管 2025" in said
    assert "2025 年考核评价结果已发布" in said
    said_en = second.stdout + second.stderr
    assert "Annual clearing 2025" in second.stdout and "statement of" in said_en
    assert "医院考核评价 2025: scores by dimension" in said_en and "智能监管 2025: top open findings" in said_en
    assert "evaluation runs of 2025 published" in said_en
    assert list((TEST_STATE / "statements").glob("*.html"))
    page = TEST_STATE / "overview.html"
    report = run("settlement", "report", "--year", "2025", "--html", str(page))
    assert report.returncode == 0, report.stderr[-3000:]
    assert "2025 年终清算：各统筹区对比" in report.stdout
    english = run("--lang", "en", "settlement", "report", "--year", "2025")
    assert english.returncode == 0, english.stderr[-3000:]
    assert "Annual clearing 2025: region by region" in english.stdout
    assert "<svg" in page.read_text() and all(c in page.read_text() for c, _, _ in pilot.REGIONS)
    tokens = json.loads((TEST_STATE / "demo-tokens.json").read_text())
    api = Api(settings, db)
    try:
        city = await api.gql(tokens["city_admin"], "{ tenants(first: 20) { nodes { code } } }")
        assert {t["code"] for t in city["tenants"]["nodes"]} == {pilot.CITY[0], *(c for c, _, _ in pilot.REGIONS)}
        q = "{ hospitals(first: 100) { nodes { code tenantCode } pageInfo { hasNextPage } } }"
        region = await api.gql(tokens["region_admin"], q)
        expected = [h for h in pilot.hospitals(150) if h.tenant_id == pilot.REGIONS[0][0]]
        assert {h["code"] for h in region["hospitals"]["nodes"]} == {h.id for h in expected}
        hospital = await api.gql(tokens["hospital_user"], q)
        assert [h["code"] for h in hospital["hospitals"]["nodes"]] == [expected[0].id]
        integrator = await api.gql(tokens["integrator"], "{ me { role tenantCodes serviceAccount } }")
        assert integrator["me"] == {
            "role": "integrator",
            "tenantCodes": [pilot.REGIONS[0][0]],
            "serviceAccount": "svc-demo-integrator",
        }
        # The year was settled once: the second demo run added no run versions (jobs keyed, retries no-ops).
        runs = await api.gql(
            tokens["region_admin"],
            "query($t: String!) { settlementRuns(tenant: $t, year: 2025) "
            "{ nodes { databaseId kind month ledger version status figures { fundTotal pointValue } } } }",
            {"t": pilot.REGIONS[0][0]},
        )
        nodes = runs["settlementRuns"]["nodes"]
        got = sorted((r["kind"], r["month"], r["ledger"], r["version"], r["status"]) for r in nodes)
        assert got == [
            ("annual", 12, "employee", 1, "draft"),
            ("annual", 12, "resident", 1, "draft"),
            ("monthly", 6, "employee", 1, "published"),
            ("monthly", 6, "resident", 1, "published"),
        ]
        # `dianshu settlement list` shows each run by its whole id (what `settlement publish` takes).
        listed = run("settlement", "list", "--year", "2025", "--tenant", pilot.REGIONS[0][0])
        assert listed.returncode == 0, listed.stderr[-3000:]
        assert all(r["databaseId"] in listed.stdout for r in nodes) and "已发布" in listed.stdout
        listed_en = run("--lang", "en", "settlement", "list", "--year", "2025", "--tenant", pilot.REGIONS[0][0])
        assert all(r["databaseId"] in listed_en.stdout for r in nodes) and "published" in listed_en.stdout
        annual = [r for r in nodes if r["kind"] == "annual"]
        assert all(D(r["figures"]["fundTotal"]) > 0 and D(r["figures"]["pointValue"]) > 0 for r in annual)
        # Re-running imported nothing twice: one succeeded roster job per region.
        jobs = await api.gql(
            tokens["city_admin"],
            "{ jobs(first: 100, kind: tenancy_import_hospitals) { nodes { tenantCode status } } }",
        )
        per_region = [j["tenantCode"] for j in jobs["jobs"]["nodes"] if j["tenantCode"].startswith("3307")]
        assert sorted(per_region) == sorted(c for c, _, _ in pilot.REGIONS)
    finally:
        await api.client.aclose()


def test_token_command_mints_verifiable_tokens_and_refuses_bad_claims(settings):
    ok = run("token", "--role", "hospital_user", "--tenant", "330702", "--hospital", "H33070200001")
    assert ok.returncode == 0, ok.stderr
    p = TokenCodec(settings).decode(ok.stdout.strip())
    assert (p.role, p.tenant_ids, p.hospital_id) == (Role.hospital_user, ("330702",), "H33070200001")
    bad = run("token", "--role", "hospital_user", "--tenant", "330702")
    assert bad.returncode == 2 and bad.stderr == "医院用户令牌应恰好指定一个单位及其医院\n", bad.stderr
    bad = run("--lang", "en", "token", "--role", "hospital_user", "--tenant", "330702")
    assert bad.returncode == 2 and "exactly one tenant and its hospital" in bad.stderr


def test_pilot_roster_is_deterministic_and_well_formed():
    a, b = pilot.hospitals(150), pilot.hospitals(150)
    assert a == b and len(a) == 150
    assert len({h.id for h in a}) == 150
    assert {h.level for h in a} == {1, 2, 3} and {h.type for h in a} == {"general", "tcm", "specialist"}
    assert {h.tenant_id for h in a} == {c for c, _, _ in pilot.REGIONS}
    for h in a:
        assert h.id.startswith("H" + h.tenant_id) and len(h.id) == 12
