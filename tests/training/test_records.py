"""Courses, sessions and people: strict, retry-safe (the same again writes and audits nothing), audited
old -> new, refusals naming the record and field; through the services and the API."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import text

from dianshu.db.session import scoped_session
from dianshu.errors import Refused
from dianshu.scope import Role, Scope
from dianshu.training.service import TrainingForbidden, save_course, save_person, save_session
from tests.api import Api
from tests.conftest import scope_for


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def audits(db, tenant: str, action: str) -> list:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        rows = await s.execute(
            text("select details from audit_log where tenant_id = :t and action = :a order by id"),
            {"t": tenant, "a": action},
        )
        return [r.details for r in rows]


async def test_saving_the_same_again_writes_nothing_and_a_change_is_audited(db, city):
    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        first = await save_course(s, region, city.a, "C1", "policy", "DRG付费政策")
    async with scoped_session(db, region) as s:
        again = await save_course(
            s, region, city.a, "C1", "DRG政策", "DRG付费政策"
        )  # the Chinese label, as a sheet has it
    assert first.changed and not again.changed
    assert len(await audits(db, city.a, "training.course")) == 1
    async with scoped_session(db, region) as s:
        changed = await save_course(s, region, city.a, "C1", "policy", "DRG付费政策解读")
    assert changed.changed and changed.row.title == "DRG付费政策解读"
    log = await audits(db, city.a, "training.course")
    assert log[-1] == {"old": {"title": "DRG付费政策"}, "new": {"title": "DRG付费政策解读"}}

    async with scoped_session(db, region) as s:
        s1 = await save_session(s, region, city.a, "S1", "C1", datetime.date(2025, 3, 6), "讲师甲", "2.5", "region")
    async with scoped_session(db, region) as s:
        s2 = await save_session(s, region, city.a, "S1", "C1", "2025-03-06", "讲师甲", "2.50", "region")
    assert s1.changed and not s2.changed and len(await audits(db, city.a, "training.session")) == 1


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        (("S9", "C1", "2025-03-06", "讲师", "0", "region"), "hours", "must be above 0 to 24 (got 0)"),
        (("S9", "C1", "2025-03-06", "讲师", "25", "region"), "hours", "must be above 0 to 24 (got 25)"),
        (("S9", "C1", "2025-03-06", "讲师", "1.25", "region"), "hours", "at most 1 decimal place(s) (got 1.25)"),
        (
            ("S9", "C1", "2025-03-06", "讲师", 1.5, "region"),
            "hours",
            "must be a decimal (as text) or a whole number, not float",
        ),
        (("S9", "C1", "2025-02-30", "讲师", "2", "region"), "heldOn", "must be a date YYYY-MM-DD (got '2025-02-30')"),
        (
            ("S9", "C1", "2025-03-06", "讲师", "2", "county"),
            "level",
            "must be one of city (市级), region (区级), hospital (院级) (got 'county')",
        ),
        (
            ("S9", "C1", "2025-03-06", "讲师", "2", "hospital"),
            "hostHospital",
            "required for a hospital-level session, and only for one",
        ),
        (("S9", "NOPE", "2025-03-06", "讲师", "2", "region"), "course", "no course NOPE in TENANT"),
        (
            ("S 9", "C1", "2025-03-06", "讲师", "2", "region"),
            "code",
            "must be a code of 1 to 30 letters, digits, _ . - (got 'S 9')",
        ),
        (("S9", "C1", "2025-03-06", "", "2", "region"), "trainer", "required"),
    ],
)
async def test_a_session_is_parsed_strictly(db, city, args, field, reason):
    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        await save_course(s, region, city.a, "C1", "policy", "DRG付费政策")
    with pytest.raises(Refused) as e:
        async with scoped_session(db, region) as s:
            await save_session(s, region, city.a, *args)
    assert (e.value.record, e.value.field, e.value.reason) == (
        "session S9" if args[0] == "S9" else "session S 9",
        field,
        reason.replace("TENANT", city.a),
    )


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        ("张三", "must be a pseudonymised id of 4 to 64 letters, digits, _ . - (never a name; got '张三')"),
        ("330102199001011234", "looks like an ID-card or phone number"),
        ("33010219900101123X", "looks like an ID-card or phone number"),
        ("13800138000", "looks like an ID-card or phone number"),
        ("abc", "must be a pseudonymised id of 4 to 64 letters"),
    ],
)
async def test_a_person_is_a_pseudonymised_id_never_a_name_or_number(db, city, person, reason):
    region = scope_for(Role.region_admin, (city.a,))
    with pytest.raises(Refused) as e:
        async with scoped_session(db, region) as s:
            await save_person(s, region, city.a, person, city.a1, "coder")
    assert e.value.field == "personId" and e.value.reason.startswith(reason)


async def test_people_rules(db, city):
    region = scope_for(Role.region_admin, (city.a,))
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    async with scoped_session(db, a1) as s:
        assert (await save_person(s, a1, city.a, "DOC-0001", city.a1, "physician")).changed
    # A hospital registers its own people only, and never bureau staff.
    for hospital, role in ((city.a2, "physician"), (None, "bureau_staff")):
        with pytest.raises(TrainingForbidden):
            async with scoped_session(db, a1) as s:
                await save_person(s, a1, city.a, "DOC-0002", hospital, role)
    # A2 cannot take over A1's person (it cannot see it: the id is taken), and is not told whose.
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    with pytest.raises(Refused) as e:
        async with scoped_session(db, a2) as s:
            await save_person(s, a2, city.a, "DOC-0001", city.a2, "physician")
    assert e.value.field == "personId" and e.value.reason == "this id is not available to you: choose another"
    assert "hospital" not in e.value.reason and "registered" not in e.value.reason
    # A person never changes hospital; a role or leaving may change.
    with pytest.raises(Refused) as e:
        async with scoped_session(db, region) as s:
            await save_person(s, region, city.a, "DOC-0001", city.a2, "physician")
    assert (e.value.kind, e.value.field) == ("state", "hospital")
    async with scoped_session(db, region) as s:
        left = await save_person(s, region, city.a, "DOC-0001", city.a1, "physician", False)
        # Registered today (no activeFrom given) and left today (active false, no leftOn given).
        assert left.changed and left.row.active is False
        assert left.row.active_from == left.row.left_on == datetime.date.today()
        again = await save_person(s, region, city.a, "DOC-0001", city.a1, "physician", False)
        assert not again.changed  # a retry keeps the date it left on
    with pytest.raises(Refused) as e:
        async with scoped_session(db, region) as s:
            await save_person(s, region, city.a, "DOC-0009", city.a1, "physician", True, None, "2025-01-01")
    assert e.value.field == "leftOn"
    with pytest.raises(Refused) as e:
        async with scoped_session(db, region) as s:
            await save_person(s, region, city.a, "DOC-0009", city.a1, "physician", False, "2025-06-01", "2025-01-01")
    assert e.value.field == "leftOn" and "before" in e.value.reason
    with pytest.raises(Refused) as e:
        async with scoped_session(db, region) as s:
            await save_person(s, region, city.a, "STAFF-01", city.a1, "bureau_staff")
    assert e.value.field == "hospital"
    with pytest.raises(Refused) as e:
        async with scoped_session(db, scope_for(Role.city_admin, city.tenants)) as s:
            await save_person(s, scope_for(Role.city_admin, city.tenants), city.city, "STAFF-01", None, "bureau_staff")
    assert e.value.field == "tenant" and "not a region" in e.value.reason


COURSE = """
mutation($input: SaveTrainingCourseInput!) {
  saveTrainingCourse(input: $input) {
    __typename
    ... on TrainingCoursePayload { changed course { tenantCode code topic title } }
    ... on ValidationError { message errors { record field reason } }
    ... on PermissionDenied { message }
  }
}"""

PERSON = """
mutation($input: SaveTrainingPersonInput!) {
  saveTrainingPerson(input: $input) {
    __typename
    ... on TrainingPersonPayload { changed person { personId hospital role active } }
    ... on ValidationError { errors { record field reason } }
    ... on PermissionDenied { message }
    ... on NotFound { record field }
    ... on StateConflict { record field reason }
  }
}"""

PEOPLE = """
query($tenant: String) { trainingPeople(tenant: $tenant) { nodes { personId hospital role } } }"""


async def test_through_the_api(api, db, city):
    region = api.token(Role.region_admin, [city.a])
    course = {"tenant": city.a, "code": "C1", "topic": "coding", "title": "编码规范"}
    first = (await api.gql(region, COURSE, {"input": course}))["saveTrainingCourse"]
    again = (await api.gql(region, COURSE, {"input": course}))["saveTrainingCourse"]
    assert first["changed"] is True and again == {**first, "changed": False}
    assert first["course"] == {"tenantCode": city.a, "code": "C1", "topic": "coding", "title": "编码规范"}
    # A hospital may not save courses; another region may not write in A.
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    assert (await api.gql(a1, COURSE, {"input": course}))["saveTrainingCourse"]["__typename"] == "PermissionDenied"
    b = api.token(Role.region_admin, [city.b])
    denied = (await api.gql(b, COURSE, {"input": course}))["saveTrainingCourse"]
    assert denied == {"__typename": "PermissionDenied", "message": f"tenant {city.a} is outside your scope"}
    # An unknown key of the input is refused by the schema (no resolver runs).
    r = await api.post(region, COURSE, {"input": {**course, "extra": 1}})
    error = r.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "unknown field 'extra'" in error["message"]

    person = {"tenant": city.a, "personId": "330102199001011234", "hospital": city.a1, "role": "coder"}
    bad = (await api.gql(a1, PERSON, {"input": person}))["saveTrainingPerson"]
    assert bad["__typename"] == "ValidationError"
    assert bad["errors"][0]["field"] == "input.personId" and bad["errors"][0]["record"] == "person 330102199001011234"
    ok = (await api.gql(a1, PERSON, {"input": {**person, "personId": "CODER-01"}}))["saveTrainingPerson"]
    assert ok == {
        "__typename": "TrainingPersonPayload",
        "changed": True,
        "person": {"personId": "CODER-01", "hospital": city.a1, "role": "coder", "active": True},
    }
    other = await api.gql(a1, PERSON, {"input": {**person, "personId": "CODER-02", "hospital": city.a2}})
    assert other["saveTrainingPerson"]["__typename"] == "PermissionDenied"
    async with scoped_session(db, scope_for(Role.region_admin, (city.a,))) as s:
        await save_person(s, scope_for(Role.region_admin, (city.a,)), city.a, "CODER-A2", city.a2, "coder")
    # The region sees both hospitals' people, A1 its own, A2 its own, region B none of A's.
    seen = lambda d: sorted(p["personId"] for p in d["trainingPeople"]["nodes"])  # noqa: E731
    assert seen(await api.gql(region, PEOPLE, {"tenant": city.a})) == ["CODER-01", "CODER-A2"]
    assert seen(await api.gql(a1, PEOPLE, {})) == ["CODER-01"]
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    assert seen(await api.gql(a2, PEOPLE, {"tenant": city.a})) == ["CODER-A2"]
    assert seen(await api.gql(b, PEOPLE, {})) == []
    r = await api.post(b, PEOPLE, {"tenant": city.a})
    assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


ATTENDANCE = """
query($tenant: String, $year: Int) {
  trainingAttendance(tenant: $tenant, year: $year, first: 100) { nodes { sessionCode personId hospital score } }
  trainingCoverage(tenant: $tenant, year: 2025) { nodes { hospital coverage } }
}"""


async def test_the_bureau_reads_all_of_its_tenants_a_hospital_its_own_people(api, db, city):
    """World (tests/training/world.py): 9 attendances, 8 held in 2025 (P2@S2 was in 2024); A2's are
    Q1@S1 (70) and Q2@S3 (no score); A2's coverage 2 ÷ 3 × 100 = 66.6667."""
    from tests.training import world

    await world.build(db, city)
    city_admin = api.token(Role.city_admin, [city.city])
    everything = await api.gql(city_admin, ATTENDANCE, {})
    assert len(everything["trainingAttendance"]["nodes"]) == 9
    assert len((await api.gql(city_admin, ATTENDANCE, {"year": 2025}))["trainingAttendance"]["nodes"]) == 8
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    own = await api.gql(a2, ATTENDANCE, {"tenant": city.a})
    assert own["trainingAttendance"]["nodes"] == [
        {"sessionCode": "S1", "personId": "Q1-0001", "hospital": city.a2, "score": "70.00"},
        {"sessionCode": "S3", "personId": "Q2-0001", "hospital": city.a2, "score": None},
    ]
    assert own["trainingCoverage"]["nodes"] == [{"hospital": city.a2, "coverage": "66.6667"}]
    b = api.token(Role.region_admin, [city.b])
    none = await api.gql(b, ATTENDANCE, {})
    assert none["trainingAttendance"]["nodes"] == [] and [n["hospital"] for n in none["trainingCoverage"]["nodes"]] == [
        city.b1
    ]


PAGE = """
query($first: Int, $after: String) {
  trainingAttendance(first: $first, after: $after) {
    nodes { tenantCode sessionCode personId } pageInfo { hasNextPage endCursor } }
}"""


async def test_attendance_pages_by_its_three_column_key(api, db, city):
    """The 9 attendances of the world, 4 a page: pages of 4, 4 and 1 in (tenant, session, person)
    order, together exactly the list of one page of 100, with no repeats."""
    from tests.training import world

    await world.build(db, city)
    city_admin = api.token(Role.city_admin, [city.city])
    key = lambda n: (n["tenantCode"], n["sessionCode"], n["personId"])  # noqa: E731
    whole = [key(n) for n in (await api.gql(city_admin, PAGE, {"first": 100}))["trainingAttendance"]["nodes"]]
    assert len(whole) == 9 and whole == sorted(whole)
    pages, after = [], None
    while True:
        page = (await api.gql(city_admin, PAGE, {"first": 4, "after": after}))["trainingAttendance"]
        pages.append([key(n) for n in page["nodes"]])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [len(p) for p in pages] == [4, 4, 1]
    assert [k for p in pages for k in p] == whole
