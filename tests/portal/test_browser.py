"""The portal in headless Chromium (Debian's /usr/bin/chromium driven by Playwright; Playwright's own
browsers are never downloaded), against the app served by uvicorn on a loopback port over the test
database, on a small seeded world.

Region A of the test city, 2025 (tests/analytics/test_analytics.py's stays, worked by hand there):
  a1: A-1 (8,000), A-2 (12,000), A-3 (3,000, low outlier): 237.5 points; expected payment
      237.5 × 100 = 23,750.00, cost 23,000.00, profit 750.00
  a2: A-4 (40,000, high outlier): 300 points → 30,000.00, cost 40,000.00, profit −10,000.00
  region: 537.5 points, 53,750.00 against 63,000.00: profit −9,250.00
  one more row refused (gend 9): a batch with 1 refused row of 6.
Employee budget 2025: last year's spending 60,000 × (1 + 0) = T 60,000.00. The policy's provisional
point value 100: April's monthly run shows 100.000000.
Evaluation (tests/evaluation/test_runs.py's inputs), published: a1 100.00 first, a2 60.00 second.
A job of region A marked running at 3 of 10 (30.0%).

Checked: a region user and a hospital user sign in with a token; the figures on the pages are the
GraphQL answers (asked separately, as the same user) and the hand values above; the hospital user
sees nothing of a2 or b1 (codes and names absent from every page, a2's P&L refused); an XLSX
downloads with numbers in its cells; a1's statement PDF downloads with its Chinese labels and its
figures to the fen; the statement link opens a's statement; no console errors; every request goes
to the app's own origin. Screenshots go to $DIANSHU_TEST_ARTEFACTS (tests/artefacts)."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
import uuid
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pypdf
import pytest

from dianshu.analytics.refresh import REFRESH
from dianshu.db.session import scoped_session
from dianshu.evaluation.runs import RUN, publish_run
from dianshu.grouping.service import GROUP_CASES
from dianshu.scope import Role
from dianshu.settlement.runs import budgets
from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.policies import set_region_policy
from dianshu.settlement.runs.settle import SETTLE
from dianshu_graphql.portal import queries
from dianshu_graphql.portal.format import money, number
from tests.analytics.test_analytics import publish, rows
from tests.api import Api
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import ROOT, scope_for
from tests.evaluation.test_runs import evaluation_inputs  # noqa: F401
from tests.portal.jobs import job_in_flight
from tests.settlement.world import run_job
from tests.test_standards_db import builtin_versions  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(os.environ.get("DIANSHU_TEST_ARTEFACTS") or ROOT / "tests" / "artefacts")


def need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("DIANSHU_SKIP_BROWSER_TEST"):
        pytest.skip("DIANSHU_SKIP_BROWSER_TEST is set and there is no /usr/bin/chromium")
    pytest.fail(
        "the portal's browser test needs Debian's chromium at /usr/bin/chromium: `apt-get install -y chromium` "
        "as root (make test does it), or set DIANSHU_SKIP_BROWSER_TEST=1 to skip this test",
        pytrace=False,
    )


@pytest.fixture
async def world(db, city, dispatcher, builtin_versions, evaluation_inputs):  # noqa: F811
    zj = builtin_versions["zhejiang_2022"]
    await publish(db, city, zj)
    region = scope_for(Role.region_admin, (city.a,))
    stays = [*rows(city), row("BAD-1", city.a1, gend="9")]
    _, outcome, result, batch = await send(db, region, city.a, csv_bytes(stays), f"portal-{uuid.uuid4()}")
    assert outcome == "succeeded" and (result["accepted"], result["refused"]) == (5, 1), result
    await run_job(db, region, city.a, GROUP_CASES, {"from": "2024-01", "to": "2025-12", "versions": [str(zj)]})
    async with scoped_session(db, region) as s:
        await set_region_policy(
            s, region, city.city, city.a, 2025, "employee", {"provisional_point_value": "100"}, "portal test"
        )
        await budgets.set_budget(
            s, region, city.city, city.a, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="t"
        )
    await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 12})
    await run_job(db, region, city.a, SETTLE, {"kind": "monthly", "year": 2025, "month": 4})
    await run_job(db, region, city.a, REFRESH, {"year": 2025})
    first = (await run_job(db, region, city.a, RUN, {"year": 2025}))["runs"][0]["id"]
    async with scoped_session(db, region) as s:
        await publish_run(s, region, city.a, uuid.UUID(first))
    job = await job_in_flight(db, region, city.a)
    return {"batch": batch.id, "job": job}


def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """The app under uvicorn in a thread (its own event loop and database pool)."""

    def __init__(self, settings) -> None:
        import uvicorn

        from dianshu_graphql.app import create_app

        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, check_role=False), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


class Browser:
    """One signed-in user's browser context, recording console errors and every request."""

    def __init__(self, browser, origin: str, who: str) -> None:
        self.browser, self.origin, self.who = browser, origin, who
        self.errors: list[str] = []
        self.requests: list[str] = []

    async def __aenter__(self):
        self.context = await self.browser.new_context(accept_downloads=True, locale="zh-CN")
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page = await self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.failed: list[str] = []
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        return self

    async def __aexit__(self, *exc) -> None:
        await self.context.close()

    async def goto(self, path: str, status: int = 200):
        before = len(self.errors)
        response = await self.page.goto(self.origin + path)
        assert response is not None and response.status == status, (path, response and response.status)
        if status >= 400:
            # The refusal asked for: Chromium logs the page's own status as a console error.
            expected = f"the server responded with a status of {status}"
            self.errors[before:] = [e for e in self.errors[before:] if expected not in e]
        return response

    async def shot(self, name: str) -> Path:
        path = artefacts() / f"portal-{self.who}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def sign_in(self, token: str) -> None:
        await self.goto("/")
        await self.page.fill("#token", token)
        await self.page.click("form.token button")
        await self.page.wait_for_url(self.origin + "/portal/home")

    async def cells(self, selector: str) -> list[list[str]]:
        return await self.page.eval_on_selector_all(
            f"{selector} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
        )

    async def text(self) -> str:
        return await self.page.inner_text("body")

    def foreign(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith(self.origin + "/") or u.startswith("data:"))]


async def test_the_portal_in_chromium(settings, db, city, world):
    need_chromium()
    from playwright.async_api import async_playwright

    api = Api(settings, db)
    region_token = api.token(Role.region_admin, [city.a])
    a1_token = api.token(Role.hospital_user, [city.a], city.a1)
    y = {"tenant": city.a, "year": 2025}
    try:
        with Served(settings) as served:
            async with async_playwright() as p:
                chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
                try:
                    async with Browser(chromium, served.origin, "region") as b:
                        await region_pages(b, api, region_token, city, world, y)
                    async with Browser(chromium, served.origin, "hospital") as b:
                        await hospital_pages(b, api, a1_token, city, y)
                finally:
                    await chromium.close()
    finally:
        await api.client.aclose()


async def region_pages(b: Browser, api: Api, token: str, city, world, y) -> None:
    await b.sign_in(token)
    await b.shot("home")
    assert "统筹区管理员" in await b.text()

    # The budget and point value by month, as budgets and settlementRuns answer.
    await b.goto(f"/portal/budget?tenant={city.a}&year=2025")
    await b.shot("budget")
    answer = await api.gql(token, queries.BUDGET, y)
    (budget,) = answer["budgets"]["nodes"]
    assert budget["total"] == "60000.00"  # 60,000 × (1 + 0)
    (shown,) = await b.cells("#budgets")
    assert shown[0] == "职工医保" and shown[4] == money(budget["total"]) == "60,000.00 元"
    assert shown[5] == money(budget["reserve"]) and shown[6] == money(budget["pointsBudget"])
    (run,) = answer["settlementRuns"]["nodes"]
    (month,) = await b.cells("#point-values")
    assert month[:5] == ["4 月", "月度预结算", "职工医保", "1", "草稿"]
    assert D(month[6].replace(",", "")) == D(run["figures"]["provisionalPointValue"]) == D(100)
    # The point value to the API's 6 places (not rounded again for the page); a draft has none yet.
    pv = run["figures"]["pointValue"]
    assert month[7] == ("—" if pv is None else number(pv, 6)), (month, pv)

    # Settlement runs and their status.
    await b.goto(f"/portal/runs?tenant={city.a}&year=2025")
    (shown,) = await b.cells("#runs")
    assert shown[:5] == ["月度预结算", "4 月", "职工医保", "1", "草稿"]
    # The city's settlement report (the overview download; annual clearings only, none yet) opens.
    report = await b.page.get_attribute("#city-report", "href")
    assert report == f"/portal/files/reports/{city.city}/settlement/2025.html"
    await b.goto(report)
    assert city.city in await b.page.title()

    # Its hospitals ranked by evaluation score.
    await b.goto(f"/portal/ranking?tenant={city.a}&year=2025")
    await b.shot("ranking")
    ranked = await api.gql(token, queries.RANKING, {**y, "after": None})
    assert sorted((r["hospital"], r["total"]) for r in ranked["evaluationResults"]["nodes"]) == [
        (city.a1, "100.00"),
        (city.a2, "60.00"),
    ]
    shown = await b.cells("#ranking")
    assert [(r[0], r[1], r[4]) for r in shown] == [
        ("1", f"Hospital {city.a1}（{city.a1}）", "100.00"),
        ("2", f"Hospital {city.a2}（{city.a2}）", "60.00"),
    ]
    # Level and band by their names, not 1/2/3 and Q1–Q4.
    bands = {"Q1": "前 25%", "Q2": "25%–50%", "Q3": "50%–75%", "Q4": "后 25%"}
    by_hospital = {r["hospital"]: r for r in ranked["evaluationResults"]["nodes"]}
    for r, hospital in zip(shown, (city.a1, city.a2), strict=True):
        assert r[3] in ("一级", "二级", "三级") and r[5] == bands[by_hospital[hospital]["rankBand"]], r

    # The region's DRG profit and loss, then one hospital's.
    await b.goto(f"/portal/pnl?tenant={city.a}&year=2025")
    await b.shot("pnl")
    pnl = await api.gql(token, queries.PNL, {**y, "hospital": None})
    total = pnl["total"]["nodes"][0]["figures"]
    assert (total["expectedPayment"], total["pricedCost"], total["profitLoss"]) == ("53750.00", "63000.00", "-9250.00")
    assert await b.page.inner_text("#pnl-total .profit") == money(total["profitLoss"]) == "-9,250.00 元"
    assert await b.page.inner_text("#pnl-total .expected") == "53,750.00 元"
    by_drg = await b.cells("#pnl")
    assert [(r[0], r[5]) for r in by_drg] == [
        (n["key"]["drg"], money(n["figures"]["profitLoss"])) for n in pnl["byDrg"]["nodes"]
    ]
    await b.goto(f"/portal/pnl?tenant={city.a}&year=2025&hospital={city.a2}")
    assert await b.page.inner_text("#pnl-total .profit") == "-10,000.00 元"  # 30,000 − 40,000

    # The XLSX download (the analytics download endpoint, through the portal): numbers in its cells,
    # the same as the page.
    async with b.page.expect_download() as info:
        await b.page.click("#xlsx")
    download = await info.value
    saved = artefacts() / f"portal-region-{download.suggested_filename}"
    await download.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    values = [r for r in sheet.iter_rows(values_only=True) if any(isinstance(v, (int, float)) for v in r)]
    assert values, list(sheet.iter_rows(values_only=True))
    assert any(D(str(v)).quantize(D("0.01")) == D("-10000.00") for r in values for v in r if isinstance(v, float | int))

    # Running jobs with progress.
    await b.goto("/portal/jobs")
    await b.shot("jobs")
    row_text = await b.page.inner_text(f"tr[data-job='{world['job']}']")
    assert "运行中" in row_text and "3 / 10（30.0%）" in row_text

    # Refused rows to download.
    await b.goto("/portal/refused")
    (shown,) = await b.cells("#refused")
    assert shown[3:6] == ["6", "5", "1"]
    href = await b.page.get_attribute(f"tr[data-batch='{world['batch']}'] a.errors", "href")
    csv = await b.page.request.get(b.origin + href)
    assert csv.status == 200
    # UTF-8 with a BOM, the Chinese headers; the refused rows' field among the cells.
    body = (await csv.body()).decode("utf-8")
    assert body.startswith("\ufeff行号,结算清单流水号,定点医药机构编号,字段,原因\r\n") and ",性别(gend)," in body
    xlsx_href = await b.page.get_attribute(f"tr[data-batch='{world['batch']}'] a.errors-xlsx", "href")
    xlsx = await b.page.request.get(b.origin + xlsx_href)
    assert xlsx.status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(await xlsx.body())).active
    assert next(sheet.iter_rows(values_only=True)) == ("行号", "结算清单流水号", "定点医药机构编号", "字段", "原因")

    # Statements to print: both hospitals' lines; a1's statement opens.
    await b.goto(f"/portal/statements?tenant={city.a}&year=2025")
    await b.shot("statements")
    assert {r[0] for r in await b.cells("table.statements")} == {
        f"Hospital {city.a1}（{city.a1}）",
        f"Hospital {city.a2}（{city.a2}）",
    }
    # Its PDF downloads through the portal and reads as the statement: the Chinese title and labels,
    # and the line's own figures to the fen (the same as the table shows).
    line = next(r for r in await b.cells("table.statements") if r[0] == f"Hospital {city.a1}（{city.a1}）")
    async with b.page.expect_download() as info:
        await b.page.click(f"tr[data-hospital='{city.a1}'] a.pdf")
    download = await info.value
    saved = artefacts() / f"portal-region-{download.suggested_filename}"
    await download.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"
    pdf_text = "".join(page.extract_text() for page in pypdf.PdfReader(saved).pages)
    assert "月度预结算单" in pdf_text and "本院结算" in pdf_text, pdf_text[:500]
    assert line[3].removesuffix(" 元") in pdf_text, (line, pdf_text[:2000])  # 应付 to the fen
    href = await b.page.get_attribute(f"tr[data-hospital='{city.a1}'] a.statement", "href")
    await b.goto(href)
    assert city.a1 in await b.page.content()

    # Signing out ends the session.
    await b.goto("/portal/home")
    await b.page.click(".signout button")
    await b.page.wait_for_url(b.origin + "/")
    await b.goto("/portal/budget")
    assert b.page.url == b.origin + "/"
    assert not b.errors, (b.errors, b.failed)
    assert not b.foreign(), b.foreign()


async def hospital_pages(b: Browser, api: Api, token: str, city, y) -> None:
    await b.sign_in(token)
    await b.shot("home")
    assert f"Hospital {city.a1}（{city.a1}）" in await b.text()
    others = [city.a2, city.b1, f"Hospital {city.a2}", f"Hospital {city.b1}"]
    for path in ("home", "budget", "runs", "ranking", "pnl", "jobs", "refused", "statements"):
        await b.goto(f"/portal/{path}?tenant={city.a}&year=2025")
        html = await b.page.content()
        assert not [o for o in others if o in html], path
    # Its own P&L, as analytics answers it: 23,750.00 − 23,000.00 = 750.00.
    await b.goto(f"/portal/pnl?tenant={city.a}&year=2025")
    await b.shot("pnl")
    pnl = await api.gql(token, queries.PNL, {**y, "hospital": None})
    assert pnl["total"]["nodes"][0]["figures"]["profitLoss"] == "750.00"
    assert await b.page.inner_text("#pnl-total .profit") == "750.00 元"
    # Another hospital's P&L: refused by the page, and the API gives nothing of it either.
    await b.goto(f"/portal/pnl?tenant={city.a}&year=2025&hospital={city.a2}", status=403)
    await b.shot("pnl-refused")
    assert "只能查看本院" in await b.text()
    theirs = await api.gql(token, queries.PNL, {**y, "hospital": city.a2})
    assert theirs["byDrg"]["nodes"] == [] and (
        not theirs["total"]["nodes"] or theirs["total"]["nodes"][0]["figures"]["cases"] == 0
    )
    # The ranking: its own line only (row-level security).
    await b.goto(f"/portal/ranking?tenant={city.a}&year=2025")
    assert [r[:2] for r in await b.cells("#ranking")] == [["—", f"Hospital {city.a1}（{city.a1}）"]]
    # Its statement only; another hospital's statement file is refused by the endpoint.
    await b.goto(f"/portal/statements?tenant={city.a}&year=2025")
    assert [r[0] for r in await b.cells("table.statements")] == [f"Hospital {city.a1}（{city.a1}）"]
    href = await b.page.get_attribute(f"tr[data-hospital='{city.a1}'] a.statement", "href")
    assert href is not None
    await b.goto(href)
    foreign = await b.page.request.get(b.origin + href.replace(city.a1, city.a2))
    assert foreign.status == 404
    # Its files, downloaded as a user would: the P&L workbook and its statement's PDF hold its own
    # figures and nothing of another hospital.
    await b.goto(f"/portal/pnl?tenant={city.a}&year=2025")
    async with b.page.expect_download() as info:
        await b.page.click("#xlsx")
    saved = artefacts() / f"portal-hospital-{(await info.value).suggested_filename}"
    await (await info.value).save_as(saved)
    header, *rows = openpyxl.load_workbook(saved).active.iter_rows(values_only=True)
    by_drg = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    # Its one DRG, as the API answered it (750.00 = 23,750.00 − 23,000.00), a number in the cell.
    assert list(by_drg) == [n["key"]["drg"] for n in pnl["byDrg"]["nodes"]], by_drg
    assert [D(str(r["盈亏(元)"])) for r in by_drg.values()] == [D("750.00")], by_drg
    cells = [str(v) for row in rows for v in row if v is not None]
    assert not [c for c in cells for o in others if o in c], cells
    await b.goto(f"/portal/statements?tenant={city.a}&year=2025")
    async with b.page.expect_download() as info:
        await b.page.click(f"tr[data-hospital='{city.a1}'] a.pdf")
    saved = artefacts() / f"portal-hospital-{(await info.value).suggested_filename}"
    await (await info.value).save_as(saved)
    pdf_text = "".join(page.extract_text() for page in pypdf.PdfReader(saved).pages)
    assert city.a1 in pdf_text and not [o for o in others if o in pdf_text], pdf_text[:1000]
    assert not b.errors, (b.errors, b.failed)
    assert not b.foreign(), b.foreign()


async def test_the_statements_page_lists_every_hospital_past_a_page(settings, db, city, world, monkeypatch):
    """A run's lines come page by page (here a page of 1, so region A's two hospitals take two):
    every hospital's statement can be printed, not only the first page's."""
    from tests.portal.test_portal import sign_in

    for name in ("STATEMENTS", "RUN_LINES"):
        monkeypatch.setattr(queries, name, getattr(queries, name).replace("first: 100", "first: 1"))
    api = Api(settings, db)
    try:
        await sign_in(api, api.token(Role.region_admin, [city.a]))
        page = await api.client.get(f"/portal/statements?tenant={city.a}&year=2025")
        assert page.status_code == 200, page.text
        for hospital in (city.a1, city.a2):
            assert f'data-hospital="{hospital}"' in page.text and f"/{hospital}.pdf" in page.text, hospital
    finally:
        await api.client.aclose()


def test_docs_screenshot_is_in_place():
    """The README shows the portal (docs/portal.png, copied from a run's artefacts when refreshed)
    and one printed page of a statement (docs/statement.png): both there, both PNGs, both shown."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("portal.png", "statement.png"):
        picture = ROOT / "docs" / name
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 10_000, name
        assert f"](docs/{name})" in readme, name
