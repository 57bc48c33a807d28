"""Standards through the API: versions, DRGs, and grouping a draft case with its trace."""

from __future__ import annotations

import pytest

from dianshu.scope import Role
from tests.api import Api
from tests.test_standards_db import builtin_versions  # noqa: F401  (session fixture)


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


GROUP = """
query($case: DraftCaseInput!, $version: ID, $scheme: String) {
  groupDraft(case: $case, version: $version, scheme: $scheme) {
    scheme versionLabel mdc adrg drg drgName status mcc cc diagnoses messages { level field text } trace
  }
}"""


async def test_versions_and_drgs(api, city, builtin_versions):  # noqa: F811
    token = api.token(Role.region_viewer, [city.a])
    data = await api.gql(token, "{ standardVersions(status: published) { nodes { id scheme label drgCount status } } }")
    by_scheme = {v["scheme"]: v for v in data["standardVersions"]["nodes"]}
    assert by_scheme["chs_drg_11"]["drgCount"] == 628 and by_scheme["zhejiang_2022"]["drgCount"] == 1006
    vid = by_scheme["zhejiang_2022"]["id"]
    page = await api.gql(
        token, 'query($v: ID!) { drgs(version: $v, adrg: "BR2") { nodes { code name mdc condition } } }', {"v": vid}
    )
    assert [d["code"] for d in page["drgs"]["nodes"]] == ["BR21", "BR23", "BR25", "BR29"]
    assert page["drgs"]["nodes"][3] == {
        "code": "BR29",
        "name": "脑缺血性疾患，伴重症监护",
        "mdc": "MDCB",
        "condition": "DEPT == 'ICU'",
    }
    # Paging through every DRG of CHS-DRG 1.1 finds all 628 exactly once.
    seen, after = [], None
    while True:
        d = await api.gql(
            token,
            "query($v: ID!, $a: String) { drgs(version: $v, first: 100, after: $a) "
            "{ nodes { code } pageInfo { hasNextPage endCursor } } }",
            {"v": by_scheme["chs_drg_11"]["id"], "a": after},
        )
        seen += [n["code"] for n in d["drgs"]["nodes"]]
        if not d["drgs"]["pageInfo"]["hasNextPage"]:
            break
        after = d["drgs"]["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 628


async def test_group_a_draft_case_with_its_trace(api, city, builtin_versions):  # noqa: F811
    token = api.token(Role.hospital_user, [city.a], city.a1)
    case = {"sex": 1, "ageYears": 70, "diagnoses": ["I63.900", "I50.900"], "dept": "ICU"}
    zj = (await api.gql(token, GROUP, {"case": case, "scheme": "zhejiang_2022"}))["groupDraft"]
    assert (zj["scheme"], zj["versionLabel"], zj["mdc"], zj["adrg"], zj["drg"]) == (
        "zhejiang_2022",
        "2022",
        "MDCB",
        "BR2",
        "BR29",
    )
    assert zj["trace"][-1].startswith("  -> BR29")
    chs = (await api.gql(token, GROUP, {"case": case, "version": str(builtin_versions["chs_drg_11"])}))["groupDraft"]
    assert chs["scheme"] == "chs_drg_11" and chs["status"] == "grouped"
    # A grey principal: ungroupable, with the reason.
    grey = (await api.gql(token, GROUP, {"case": {"diagnoses": ["I48.900"]}, "scheme": "chs_drg_11"}))["groupDraft"]
    assert grey["drg"] == "0000" and grey["messages"][0]["level"] == "error" and "grey" in grey["messages"][0]["text"]


async def test_group_draft_refusals(api, city, builtin_versions):  # noqa: F811
    expert = api.token(Role.expert, [city.a])
    r = await api.post(expert, GROUP, {"case": {"diagnoses": ["J18.900"]}, "scheme": "chs_drg_11"})
    assert "role expert may not do this" in r.json()["errors"][0]["message"]
    token = api.token(Role.region_admin, [city.a])
    r = await api.post(token, GROUP, {"case": {"diagnoses": ["J18.900"], "sex": 7}, "scheme": "chs_drg_11"})
    assert "case.sex: must be 1 (male) or 2 (female) (got 7)" in r.json()["errors"][0]["message"]
    r = await api.post(token, GROUP, {"case": {"diagnoses": ["J18.900"]}, "scheme": "no_such_scheme"})
    assert "no published version of no_such_scheme" in r.json()["errors"][0]["message"]
    r = await api.post(token, GROUP, {"case": {"diagnoses": ["J18.900"]}})
    assert "no payment standard is in force" in r.json()["errors"][0]["message"]
