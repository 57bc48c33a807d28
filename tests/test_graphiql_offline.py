"""GraphiQL offline (issue 14, item 6): in dev the page loads its files from the app, none from a CDN,
each the file PROVENANCE.md names; in prod neither the page nor the files are served."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from dianshu.scope import Role
from dianshu_graphql import graphiql
from dianshu_graphql.graphiql import STATIC, offline_graphiql
from tests.api import Api

HTML = {"Accept": "text/html"}
# The seven files strawberry 0.341.2's template loads from unpkg.com (strawberry/static/graphiql.html):
# react and react-dom (UMD), js-cookie, graphiql's js and css, the explorer plugin's js and css.
SEVEN = {
    "react@18.2.0/umd/react.production.min.js": "text/javascript",
    "react-dom@18.2.0/umd/react-dom.production.min.js": "text/javascript",
    "js-cookie@3.0.5/dist/js.cookie.min.js": "text/javascript",
    "graphiql@3.8.3/graphiql.min.js": "text/javascript",
    "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": "text/javascript",
    "graphiql@3.8.3/graphiql.min.css": "text/css",
    "@graphiql/plugin-explorer@1.0.2/dist/style.css": "text/css",
}


def provenance() -> dict[str, str]:
    """file → sha256, from PROVENANCE.md's table (| package | version | file | bytes | sha256 | licence |)."""
    rows = re.findall(
        r"^\| [^|]+ \| [^|]+ \| (\S+) \| \d+ \| ([0-9a-f]{64}) \|", (STATIC / "PROVENANCE.md").read_text(), re.M
    )
    return dict(rows)


def assets(page: str) -> list[tuple[str, str]]:
    """(url, integrity) of every <script src> and <link href> on the page."""
    found = []
    for tag in re.findall(r"<(?:script|link)\b[^>]*>", page):
        url = re.search(r'\b(?:src|href)="([^"]+)"', tag)
        if url and not url.group(1).startswith("data:"):
            integrity = re.search(r'\bintegrity="([^"]+)"', tag)
            found.append((url.group(1), integrity.group(1) if integrity else ""))
    return found


@pytest.fixture
async def dev(settings, db):
    api = Api(settings, db)
    yield api
    await api.client.aclose()


async def test_dev_page_names_no_other_host(dev):
    r = await dev.client.get("/graphql", headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert 'id="graphiql"' in page
    # The only absolute URL left is the SVG namespace inside the data: favicon: a name, never fetched.
    assert set(re.findall(r"https?://[^\s\"'<>%]+", page)) == {"http://www.w3.org/2000/svg"}
    for host in ("unpkg", "jsdelivr", "cdnjs", "googleapis", "esm.sh"):
        assert host not in page
    assert sorted(url for url, _ in assets(page)) == sorted(f"/graphiql/static/{path}" for path in SEVEN)


async def test_every_file_is_served_as_vendored(dev):
    recorded = provenance()
    assert set(recorded) == set(SEVEN)  # the table lists exactly the seven
    page = (await dev.client.get("/graphql", headers=HTML)).text
    served = 0
    for url, integrity in assets(page):
        r = await dev.client.get(url)
        path = url.removeprefix("/graphiql/static/")
        assert r.status_code == 200, url
        assert r.headers["content-type"].split(";")[0] == SEVEN[path], url
        assert r.headers["x-content-type-options"] == "nosniff"
        assert hashlib.sha256(r.content).hexdigest() == recorded[path], url
        # strawberry's integrity attribute stays: the browser checks the local file against it too.
        assert integrity == "sha384-" + base64.b64encode(hashlib.sha384(r.content).digest()).decode(), url
        served += 1
    assert served == 7


async def test_only_the_pages_files_are_served(dev):
    # Licences and PROVENANCE.md sit beside the files but are not among what the page loads.
    for path in ("PROVENANCE.md", "graphiql@3.8.3/LICENSE", "../graphiql.py", "graphiql@3.8.3/graphiql.min.js.map"):
        assert (await dev.client.get(f"/graphiql/static/{path}")).status_code == 404, path


async def test_page_policy_allows_only_the_apps_origin(dev):
    r = await dev.client.get("/graphql", headers=HTML)
    policy = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    # The page's one inline <script> and one inline <style>, allowed by their sha256, nothing inline else.
    (script,) = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    (style,) = re.findall(r"<style>(.*?)</style>", r.text, re.S)

    def sha256(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == f"'self' {sha256(script)}"
    assert policy["style-src"] == f"'self' {sha256(style)}"
    assert policy["connect-src"] == "'self'"
    assert policy["img-src"] == policy["font-src"] == "'self' data:"  # data: favicon, fonts inlined in the css
    assert policy["frame-ancestors"] == policy["object-src"] == policy["base-uri"] == "'none'"
    assert "http" not in r.headers["content-security-policy"] and "unsafe" not in r.headers["content-security-policy"]


async def test_prod_serves_neither_page_nor_files(prod, city):
    assert (await prod.client.get("/graphql", headers=HTML)).status_code == 401
    # With a valid token the IDE is still off: strawberry's 404 (graphql_ide is None).
    token = prod.token(Role.city_admin, [city.city])
    r = await prod.client.get("/graphql", headers={**HTML, "Authorization": f"Bearer {token}"})
    assert r.status_code == 404 and "graphiql" not in r.text.lower()
    for path in SEVEN:
        assert (await prod.client.get(f"/graphiql/static/{path}")).status_code == 404, path


def test_a_template_naming_a_file_not_vendored_is_refused(monkeypatch):
    template = '<script src="https://unpkg.com/graphiql@9.9.9/graphiql.min.js"></script>'
    monkeypatch.setattr(graphiql, "get_graphql_ide_html", lambda _: template)
    with pytest.raises(RuntimeError, match=r"https://unpkg.com/graphiql@9.9.9/graphiql.min.js, which is not vendored"):
        offline_graphiql()
