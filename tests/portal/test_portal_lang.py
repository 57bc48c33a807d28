"""The portal in English: every page text through the catalogue (dianshu.reports.labels.PAGES),
the language chosen by ?lang= (kept in a cookie), or Accept-Language; Chinese by default."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dianshu.reports.labels import PAGES, page_text
from dianshu.scope import Role
from dianshu.tabular.write import Lang
from tests.api import Api
from tests.portal.test_portal import sign_in

PORTAL = Path(__file__).resolve().parents[2] / "graphql/dianshu_graphql/portal"
TEMPLATES = PORTAL / "templates"
GETTEXT = re.compile(r'_\("([^"]*)"')
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


def test_every_page_text_is_in_the_catalogue_and_none_is_left_outside():
    used = set()
    for path in sorted(TEMPLATES.glob("*.html")):
        html = path.read_text(encoding="utf-8")
        used |= set(GETTEXT.findall(html))
        # Outside _("…") only the switch's own name of Chinese (written in Chinese in both languages).
        rest = GETTEXT.sub("", html).replace(">中文<", "><")
        assert not CJK.search(rest), f"{path.name}: Chinese outside _(): {CJK.findall(rest)[:5]}"
    # The portal's own messages: every Chinese string of pages.py is a `_t("…")` id (docstrings aside).
    tree = ast.parse((PORTAL / "pages.py").read_text(encoding="utf-8"))
    ids = {
        n.args[0].value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "_t" and isinstance(n.args[0], ast.Constant)
    }
    docs = {
        id(d.body[0].value)
        for d in ast.walk(tree)
        if isinstance(d, ast.FunctionDef | ast.ClassDef | ast.Module) and d.body and isinstance(d.body[0], ast.Expr)
    }
    loose = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and CJK.search(n.value)
        and n.value not in ids and id(n) not in docs and n.value != "；"
    ]  # fmt: skip
    assert not loose, loose
    used |= ids
    # The single sign-on's refusals (portal/oidc.py OidcError("…", …)), said by the sign-in page.
    tree = ast.parse((PORTAL / "oidc.py").read_text(encoding="utf-8"))
    used |= {
        n.args[0].value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "OidcError" and isinstance(n.args[0], ast.Constant)
    }
    missing = sorted(used - PAGES.keys())
    assert not missing, missing
    assert all(PAGES[k].strip() and not CJK.search(PAGES[k]) for k in used)
    assert sorted(PAGES.keys() - used) == []  # no stale entries
    assert page_text("{year} 年度", Lang.en, year=2025) == "year 2025"
    assert page_text("{year} 年度", Lang.zh, year=2025) == "2025 年度"


async def test_the_pages_in_english_by_lang_cookie_and_accept_language(api, city):
    await sign_in(api, api.token(Role.region_admin, [city.a]))
    zh = await api.client.get("/portal/runs?year=2025")
    assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text
    assert "本年度尚无结算批次。" in zh.text and "退出登录" in zh.text and 'href="?year=2025&amp;lang=en"' in zh.text

    en = await api.client.get("/portal/home?year=2025&lang=en")
    assert en.status_code == 200 and '<html lang="en">' in en.text
    assert "Hello, t-region_admin" in en.text and "region administrator" in en.text and "Sign out" in en.text
    assert "What you can see (year 2025)" in en.text and 'href="?year=2025&amp;lang=zh"' in en.text
    (cookie,) = [v for k, v in en.headers.multi_items() if k == "set-cookie" and v.startswith("dianshu_lang=")]
    assert cookie.startswith("dianshu_lang=en;") and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    # The cookie keeps it on the next page.
    runs = await api.client.get("/portal/runs?year=2025")
    assert "No settlement runs for this year yet." in runs.text and "Settlement runs · " in runs.text
    # ?lang=zh switches back (and the cookie with it); the switch keeps the page's other
    # parameters, a repeated or blank one included, and names lang once.
    back = await api.client.get("/portal/runs?year=2025&lang=en&lang=zh&q=")
    assert "本年度尚无结算批次。" in back.text and 'href="?year=2025&amp;q=&amp;lang=en"' in back.text
    # Without a cookie: Accept-Language.
    api.client.cookies.delete("dianshu_lang")
    asked = await api.client.get("/portal/runs?year=2025", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert "No settlement runs for this year yet." in asked.text
    french = await api.client.get("/portal/runs?year=2025", headers={"Accept-Language": "fr"})
    assert "本年度尚无结算批次。" in french.text


async def test_the_jobs_page_says_a_jobs_progress_in_the_pages_language(api, city, db):
    """A job's progress message (English, as the domain writes it) is said in the page's language."""
    from tests.conftest import scope_for
    from tests.portal.jobs import job_in_flight

    region = scope_for(Role.region_admin, (city.a,))
    job = await job_in_flight(db, region, city.a, "12,345 rows read")
    await sign_in(api, api.token(Role.region_admin, [city.a]))
    zh = await api.client.get("/portal/jobs?lang=zh")
    assert zh.status_code == 200 and "已读取 12,345 行" in zh.text and "rows read" not in zh.text
    en = await api.client.get("/portal/jobs?lang=en")
    assert en.status_code == 200 and "12,345 rows read" in en.text
    # The API says it too: Job.localizedMessage, beside the English message (zh: no language named).
    api.client.cookies.delete("dianshu_lang")
    got = await api.gql(
        api.token(Role.region_admin, [city.a]),
        "query($id: ID!) { job(id: $id) { message localizedMessage } }",
        {"id": str(job)},
    )
    assert got["job"] == {"message": "12,345 rows read", "localizedMessage": "已读取 12,345 行"}
