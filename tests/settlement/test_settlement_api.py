"""The settlement API end to end on the hand-settled year of tests/settlement/world.py: budget,
runs, publishing, lines per role, statements (JSON, CSV, HTML), a review, and a simulation side by
side with the published clearing."""

from __future__ import annotations

import csv
import io
import uuid

from openpyxl import load_workbook
from pypdf import PdfReader

from dianshu.jobs import service as jobs
from dianshu.scope import Role
from tests.api import Api
from tests.settlement.world import load_year, publish_standard
from tests.test_standards_db import builtin_versions  # noqa: F401

RUN = """mutation($i: RunSettlementInput!) { runSettlement(input: $i) {
  ... on SettlementJobPayload { job { databaseId } } ... on PermissionDenied { message } } }"""
RUNS = """query($t: String!) { settlementRuns(tenant: $t, year: 2025) { nodes { id databaseId kind month status
  figures { fundTotal alliances { alliance } } inputs { policy { ledger } }
  lines { nodes { hospital points due payable balance } } } } }"""


async def run(api, db, token, tenant, **inp):
    out = await api.gql(token, RUN, {"i": {"tenant": tenant, "year": 2025, **inp}})
    job = out["runSettlement"]["job"]["databaseId"]
    assert await jobs.execute(db, tenant, uuid.UUID(job)) == "succeeded"


async def test_settlement_through_the_api(settings, db, city, dispatcher, builtin_versions, monkeypatch):  # noqa: F811
    # simulateAgainstRun computes the region's year in a worker thread, off the event loop.
    import threading

    import dianshu.settlement.runs.compare as compare

    computed_on: list[threading.Thread] = []

    def case_results(*args, **kwargs):
        computed_on.append(threading.current_thread())
        return real_case_results(*args, **kwargs)

    real_case_results = compare.case_results
    monkeypatch.setattr(compare, "case_results", case_results)

    zj = builtin_versions["zhejiang_2022"]
    await publish_standard(db, city, zj)
    await load_year(db, city, zj)
    api = Api(settings, db)
    try:
        region = api.token(Role.region_admin, [city.a])
        budget = await api.gql(
            region,
            """mutation($t: String!) { setBudget(input: {tenant: $t, year: 2025, growthRate: "0",
                 lastYearSpending: "60000", reason: "negotiated"}) {
               ... on BudgetPayload { budget { version total reserve pointsBudget } }
               ... on ValidationError { message } } }""",
            {"t": city.a},
        )
        assert budget["setBudget"]["budget"] == {
            "version": 1,
            "total": "60000.00",
            "reserve": "3000.00",
            "pointsBudget": "57000.00",
        }
        bad = await api.gql(
            region,
            """mutation($t: String!) { setBudget(input: {tenant: $t, year: 2025, growthRate: "0.9", reason: "x"}) {
               ... on ValidationError { errors { record field reason } } } }""",
            {"t": city.a},
        )
        assert bad["setBudget"]["errors"][0]["field"] == "input.growthRate"
        await api.gql(
            region,
            """mutation($t: String!) { setPolicy(input: {tenant: $t, year: 2025, ledger: employee,
                 parameters: {provisionalPointValue: "100", reviewQuotaRatio: "1", reviewMinExperts: 1},
                 reason: "first year"}) { __typename } }""",
            {"t": city.a},
        )
        # The region's other inputs: typed refusals name the record and field; a hospital may not.
        regional = """mutation($t: String!, $h: String!) {
          setEvaluationScore(tenant: $t, hospital: $h, year: 2025, score: "101") { __typename
            ... on ValidationError { errors { record field reason } }
            ... on EvaluationScorePayload { score { score } } }
          setAlliance(input: {tenant: $t, id: "M1", name: "M", lead: $h, shares: []}) { __typename
            ... on ValidationError { errors { record field } } }
          recordAuditDeduction(input: {tenant: $t, hospital: $h, year: 2025, month: 9, amount: "0.50",
            reference: "A-1", reason: "double billing"}) { __typename
            ... on AuditDeductionPayload { deduction { hospital amount reference ledger } } }
        }"""
        out = await api.gql(region, regional, {"t": city.a, "h": city.a1})
        assert out["setEvaluationScore"]["errors"] == [
            {"record": f"score {city.a1}/2025", "field": "score", "reason": "must be between 0 and 100 (got 101)"}
        ]
        assert out["setAlliance"]["errors"] == [{"record": "alliance M1", "field": "input.shares"}]
        assert out["recordAuditDeduction"]["deduction"] == {
            "hospital": city.a1,
            "amount": "0.50",
            "reference": "A-1",
            "ledger": "employee",
        }
        refused = await api.gql(api.token(Role.hospital_user, [city.a], city.a1), regional, {"t": city.a, "h": city.a1})
        assert {v["__typename"] for v in refused.values()} == {"PermissionDenied"}
        await run(api, db, region, city.a, kind="monthly", month=4)
        await run(api, db, region, city.a, kind="annual")
        runs = (await api.gql(region, RUNS, {"t": city.a}))["settlementRuns"]["nodes"]
        annual = next(r for r in runs if r["kind"] == "annual")
        monthly = next(r for r in runs if r["kind"] == "monthly")
        assert annual["figures"]["fundTotal"] == "56850.00" and annual["status"] == "draft"
        pub = await api.gql(
            region,
            "mutation($t: String!, $i: ID!) { publishSettlementRun(tenant: $t, id: $i) "
            "{ ... on RunPayload { run { status } } } }",
            {"t": city.a, "i": monthly["id"]},
        )
        assert pub["publishSettlementRun"]["run"]["status"] == "published"

        # The city sees the regions side by side (a table, CSV and a page with a chart); region B sees
        # none of A's; a hospital may not read the overview.
        viewer = api.token(Role.city_viewer, [city.city])
        q = """query($c: String!) { settlementOverview(tenant: $c, year: 2025) { region ledger status
          figures { fundTotal pointValue } } }"""
        ov = (await api.gql(viewer, q, {"c": city.city}))["settlementOverview"]
        assert [
            (r["region"], r["ledger"], r["figures"]["fundTotal"], r["figures"]["pointValue"], r["status"]) for r in ov
        ] == [(city.a, "employee", "56850.00", "108.083333", "draft")]
        assert (await api.gql(api.token(Role.region_viewer, [city.b]), q, {"c": city.city}))["settlementOverview"] == []
        page = await api.client.get(
            f"/reports/{city.city}/settlement/2025.html", headers={"Authorization": f"Bearer {viewer}"}
        )
        assert page.status_code == 200 and "<svg" in page.text and f">Region {city.a}</text>" in page.text
        table = await api.client.get(
            f"/reports/{city.city}/settlement/2025.csv", headers={"Authorization": f"Bearer {viewer}"}
        )
        assert table.content.startswith(b"\xef\xbb\xbf")
        assert table.text.lstrip("\ufeff").splitlines()[1].startswith(f"{city.a},Region {city.a},职工医保,")
        book = await api.client.get(
            f"/reports/{city.city}/settlement/2025?format=xlsx", headers={"Authorization": f"Bearer {viewer}"}
        )
        ws = load_workbook(io.BytesIO(book.content)).active
        f = ws.cell(row=2, column=[c.value for c in ws[1]].index("基金支付总额") + 1)
        assert (f.value, f.data_type, f.number_format) == (56850, "n", "#,##0.00")
        printed = await api.client.get(
            f"/reports/{city.city}/settlement/2025.pdf?lang=en", headers={"Authorization": f"Bearer {viewer}"}
        )
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(printed.content)).pages)
        assert f"Region {city.a}" in text and "56,850.00" in text and "108.083333" in text and "Fund total" in text
        # In Chinese (the default): the catalogue's labels (fig.F 基金支付总额, fig.PV 点值, city.table
        # 各统筹区清算, the status 草稿), the fund total to the fen (56,850.00) and the point value
        # 108.083333 (the same figures as the API's above).
        printed_zh = await api.client.get(
            f"/reports/{city.city}/settlement/2025.pdf", headers={"Authorization": f"Bearer {viewer}"}
        )
        assert printed_zh.status_code == 200 and printed_zh.content.startswith(b"%PDF")
        zh = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(printed_zh.content)).pages)
        for label in ("基金支付总额", "点值", "各统筹区清算", "年终清算", "草稿"):
            assert label in zh, (label, zh)
        assert "56,850.00" in zh and "108.083333" in zh and "Fund total" not in zh
        hosp = api.token(Role.hospital_user, [city.a], city.a1)
        assert (
            await api.client.get(
                f"/reports/{city.city}/settlement/2025.html", headers={"Authorization": f"Bearer {hosp}"}
            )
        ).status_code == 403

        # A hospital sees its own line only; region B sees no runs of A; a hospital cannot publish.
        a1 = api.token(Role.hospital_user, [city.a], city.a1)
        mine = (await api.gql(a1, RUNS, {"t": city.a}))["settlementRuns"]["nodes"]
        assert all([x["hospital"] for x in r["lines"]["nodes"]] == [city.a1] for r in mine)
        # ... and none of the run's per-hospital inputs (scores, coefficients, alliances' dues).
        assert all(r["inputs"] is None and r["figures"]["alliances"] is None for r in mine)
        assert annual["inputs"]["policy"]["ledger"] == "employee" and annual["figures"]["alliances"] == []
        denied = await api.post(api.token(Role.region_admin, [city.b]), RUNS, {"t": city.a})
        assert "errors" in denied.json()
        refused = await api.gql(
            a1,
            "mutation($t: String!, $i: ID!) { publishSettlementRun(tenant: $t, id: $i) "
            "{ ... on PermissionDenied { message } } }",
            {"t": city.a, "i": annual["id"]},
        )
        assert refused["publishSettlementRun"]["message"]

        # Statements: JSON, CSV and a printable HTML page with its chart; not another hospital's.
        base = f"/statements/{city.a}/{monthly['databaseId']}/{city.a1}"
        headers = {"Authorization": f"Bearer {a1}"}
        js = (await api.client.get(base + ".json", headers=headers)).json()
        assert js["line"]["due"] == "16000.00" and [m["payment"] for m in js["months"]] == [
            "0.00",
            "0.00",
            "0.00",
            "15200.00",
        ]
        assert js["months"][2]["points"] == "200.0000"  # March: A-1 and A-2
        # Each CSV one table with a BOM, naming the hospital: the summary unless table= names another.
        raw = (await api.client.get(base + ".csv", headers=headers)).content
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert len(rows) == 2 and rows[1][:2] == [city.a1, f"Hospital {city.a1}"]
        assert rows[1][rows[0].index("应付金额")] == "16000.00"
        months = (await api.client.get(base + "?format=csv&table=months", headers=headers)).content
        lines = months.decode("utf-8-sig").splitlines()
        assert (
            len(lines) == 5
            and lines[4].endswith(",15200.00,100.000000")  # April's payment, its provisional PV (the policy's 100)
            and lines[4].startswith(f"{city.a1},Hospital {city.a1},2025-04,")
        )
        book = await api.client.get(base + ".xlsx", headers=headers)
        wb = load_workbook(io.BytesIO(book.content))
        assert wb.sheetnames == ["结算汇总", "按月明细", "统筹区账户"]
        head = [c.value for c in wb["结算汇总"][1]]
        due = wb["结算汇总"].cell(row=2, column=head.index("应付金额") + 1)
        assert (due.value, due.data_type) == (16000, "n")
        page = (await api.client.get(base + ".html", headers=headers)).text
        assert "<svg" in page and "16,000.00 元" in page and "应付金额" in page
        assert "Due" in (await api.client.get(base + "?lang=en", headers=headers)).text  # html without .ext
        pdf = await api.client.get(base + ".pdf", headers=headers)
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "16,000.00 元" in text and f"Hospital {city.a1}" in text and "经办人" in text
        for bad, field in (
            (".html?format=pdf", "format"),
            (".pdf?table=months", "table"),
            ("?format=doc", "format"),
            (".csv?table=all", "table"),
            (".csv?lang=fr", "lang"),
            (".csv?x=1", "x"),
        ):
            refused = await api.client.get(base + bad, headers=headers)
            assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == field, bad
        other = await api.client.get(f"/statements/{city.a}/{monthly['databaseId']}/{city.a2}.json", headers=headers)
        assert other.status_code == 404

        # Side by side: growth 10% instead of 0. T 66,000, R 3,300, B 62,700; E 56,000:
        # F = 56,000 + 0.85 × 6,700 = 61,695.00; PV = (61,695 + 8,000) / 600 = 116.158333…
        # a1: 300 × PV − 6,000 = 28,847.50 (published 26,425.00: +2,422.50).
        sim = await api.gql(
            region,
            'query($t: String!, $r: ID!) { simulateAgainstRun(tenant: $t, run: $r, growthRate: "0.10") '
            "{ __typename ... on RunComparisonPayload { comparison { published { fundTotal } simulated { fundTotal } "
            "hospitals { hospital publishedDue simulatedDue difference } } } } }",
            {"t": city.a, "r": annual["id"]},
        )
        s = sim["simulateAgainstRun"]["comparison"]
        assert computed_on and threading.main_thread() not in computed_on
        assert (s["published"]["fundTotal"], s["simulated"]["fundTotal"]) == ("56850.00", "61695.00")
        row = next(h for h in s["hospitals"] if h["hospital"] == city.a1)
        assert (row["publishedDue"], row["simulatedDue"], row["difference"]) == ("26425.00", "28847.50", "2422.50")
        hosp_sim = await api.post(
            a1,
            'query($t: String!, $r: ID!) { simulateAgainstRun(tenant: $t, run: $r, growthRate: "0.10") '
            "{ __typename } }",
            {"t": city.a, "r": annual["id"]},
        )
        assert hosp_sim.json()["data"]["simulateAgainstRun"]["__typename"] == "PermissionDenied"

        # A review through the API: a2 applies, the region prechecks and draws the one expert, who decides.
        a2 = api.token(Role.hospital_user, [city.a], city.a2)
        await api.gql(
            region,
            'mutation($t: String!) { addReviewExpert(tenant: $t, expert: "t-expert", name: "E") { __typename } }',
            {"t": city.a},
        )
        applied = await api.gql(
            a2,
            """mutation($t: String!, $h: String!) { applyForReview(input: {tenant: $t, hospital: $h, listId: "A-4",
                 request: "ECMO"}) { ... on ReviewPayload { review { id state grounds } } } }""",
            {"t": city.a, "h": city.a2},
        )
        rid = applied["applyForReview"]["review"]["id"]
        assert applied["applyForReview"]["review"]["grounds"] == ["high outlier"]
        step = """mutation($i: ReviewStepInput!) { %s(input: $i) { ... on ReviewPayload { review { state } }
                  ... on ValidationError { message } ... on PermissionDenied { message } } }"""
        i = {"tenant": city.a, "review": rid, "reason": "ok"}
        assert (await api.gql(region, step % "precheckReview", {"i": i}))["precheckReview"]["review"][
            "state"
        ] == "prechecked"
        assert (await api.gql(region, step % "assignReviewExperts", {"i": i}))["assignReviewExperts"]["review"][
            "state"
        ] == "in_review"
        expert = api.token(Role.expert, [city.a])
        seen = await api.gql(
            expert,
            "query($t: String!) { reviews(tenant: $t) { nodes { id hospital listId case { drg } } } }",
            {"t": city.a},
        )
        seen = seen["reviews"]["nodes"]
        assert seen[0]["hospital"] is None and seen[0]["case"]["drg"] == "ES23"
        decide = (
            """mutation($i: ReviewDecisionInput!) { %s(input: $i) { ... on ReviewPayload { review { state } } } }"""
        )
        d = {**i, "outcome": "add_points", "points": "350"}
        await api.gql(expert, decide % "giveReviewOpinion", {"i": d})
        out = await api.gql(region, decide % "decideReview", {"i": d})
        assert out["decideReview"]["review"]["state"] == "decided"
    finally:
        await api.client.aclose()
