"""The catalogue's versions in the database: loading is idempotent by content (no write, no audit),
publishing freezes a version and its rows (database triggers, for the owner role too), and the
version in force for a year rebuilds exactly the catalogue it was loaded from."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import create_engine, pool, text

from dianshu.db.session import scoped_session, sync_url
from dianshu.evaluation.catalogue import builtin_catalogue
from dianshu.evaluation.versions import (
    CatalogueVersionRefused,
    builtin_label,
    catalogue_hash,
    catalogue_in_force,
    catalogue_of,
    load_catalogue,
    publish_catalogue,
)
from dianshu.scope import Role, Scope
from tests.conftest import scope_for
from tests.evaluation.world import builtin_catalogue_version  # noqa: F401


def variant(tag: str):
    """The built-in catalogue with A01's English formula changed: other content."""
    c = builtin_catalogue()
    first = dataclasses.replace(c.indicators[0], formula_en=f"{c.indicators[0].formula_en} ({tag})")
    return dataclasses.replace(c, indicators=(first, *c.indicators[1:]))


async def audit_count(db, tenant: str) -> int:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (await s.execute(text("select count(*) from audit_log where tenant_id = :t"), {"t": tenant})).scalar()


async def test_loading_the_builtin_again_is_the_same_version_and_writes_nothing(
    db,
    city,
    builtin_catalogue_version,  # noqa: F811
):
    admin = scope_for(Role.city_admin, city.tenants)
    before = await audit_count(db, city.city)
    async with scoped_session(db, admin) as s:
        loaded = await load_catalogue(s, admin)
        versions = (await s.execute(text("select count(*) from evaluation_catalogue_version"))).scalar()
    assert (loaded.version.id, loaded.created) == (builtin_catalogue_version, False)
    assert loaded.version.label == builtin_label() and loaded.version.status == "published"
    assert loaded.version.content_hash == catalogue_hash(builtin_catalogue())
    assert await audit_count(db, city.city) == before
    async with scoped_session(db, admin) as s:
        assert (await load_catalogue(s, admin)).created is False
        assert (await s.execute(text("select count(*) from evaluation_catalogue_version"))).scalar() == versions
        rows = (
            await s.execute(
                text(
                    "select (select count(*) from evaluation_indicator where version_id = :v),"
                    " (select count(*) from evaluation_dimension where version_id = :v)"
                ),
                {"v": builtin_catalogue_version},
            )
        ).one()
    assert tuple(rows) == (50, 6)


async def test_a_new_catalogue_is_a_draft_audited_once_and_a_taken_label_is_refused(db, city):
    admin = scope_for(Role.city_admin, city.tenants)
    tag = uuid.uuid4().hex[:8]
    before = await audit_count(db, city.city)
    async with scoped_session(db, admin) as s:
        first = await load_catalogue(s, admin, variant(tag), f"t-{tag}")
    async with scoped_session(db, admin) as s:
        again = await load_catalogue(s, admin, variant(tag), "another label")
    assert first.created and not again.created and again.version.id == first.version.id
    assert first.version.status == "draft" and first.version.label == f"t-{tag}"
    assert await audit_count(db, city.city) == before + 1  # the load, not the retry
    with pytest.raises(CatalogueVersionRefused) as e:
        async with scoped_session(db, admin) as s:
            await load_catalogue(s, admin, variant(tag + "x"), f"t-{tag}")
    assert (e.value.record, e.value.field) == (f"catalogue version t-{tag}", "label")
    # A stored draft rebuilds exactly.
    async with scoped_session(db, admin) as s:
        assert await catalogue_of(s, first.version.id) == variant(tag)


@pytest.mark.parametrize("role", [Role.region_admin, Role.hospital_user, Role.city_viewer, Role.integrator])
async def test_only_a_city_admin_loads_or_publishes(db, city, role, builtin_catalogue_version):  # noqa: F811
    scope = scope_for(role, (city.a,), city.a1 if role is Role.hospital_user else None)
    async with scoped_session(db, scope) as s:
        with pytest.raises(PermissionError, match="city_admin only"):
            await load_catalogue(s, scope, variant("x"), "x")
        with pytest.raises(PermissionError):
            await publish_catalogue(s, scope, builtin_catalogue_version, 2000)


async def test_catalogue_in_force_round_trips_the_builtin_exactly(db, builtin_catalogue_version):  # noqa: F811
    async with db.session(None) as s:
        vid, label, catalogue = await catalogue_in_force(s, 2025)
    assert (vid, label) == (builtin_catalogue_version, builtin_label())
    builtin = builtin_catalogue()
    assert catalogue == builtin
    # Exactly: every field, weights written the same way (25, not 25.0000), in file order.
    assert [dataclasses.astuple(i) for i in catalogue.indicators] == [
        dataclasses.astuple(i) for i in builtin.indicators
    ]
    assert [str(i.weight) for i in catalogue.indicators] == [str(i.weight) for i in builtin.indicators]
    assert [str(d.weight) for d in catalogue.dimensions] == ["20", "25", "20", "15", "10", "10"]
    assert catalogue_hash(catalogue) == catalogue_hash(builtin)


async def test_no_catalogue_before_2000_is_a_typed_not_found(db, builtin_catalogue_version):  # noqa: F811
    async with db.session(None) as s:
        with pytest.raises(CatalogueVersionRefused) as e:
            await catalogue_in_force(s, 1999)
    assert (e.value.kind, e.value.field) == ("not_found", "year")


async def test_publishing_freezes_the_version_and_its_rows(db, test_database, city, builtin_catalogue_version):  # noqa: F811
    admin = scope_for(Role.city_admin, city.tenants)
    tag = uuid.uuid4().hex[:8]
    async with scoped_session(db, admin) as s:
        draft = (await load_catalogue(s, admin, variant(tag), f"t-{tag}")).version
    before = await audit_count(db, city.city)
    async with scoped_session(db, admin) as s:
        with pytest.raises(CatalogueVersionRefused) as e:
            await publish_catalogue(s, admin, draft.id, 2091, 2090)
        assert (e.value.field, e.value.kind) == ("effective_to", "invalid")
        with pytest.raises(CatalogueVersionRefused) as e:
            await publish_catalogue(s, admin, draft.id, 1999)
        assert e.value.field == "effective_from"
        v = await publish_catalogue(s, admin, draft.id, 2090)
        assert (v.status, v.effective_from, v.effective_to) == ("published", 2090, None)
    assert await audit_count(db, city.city) == before + 1
    async with scoped_session(db, admin) as s:  # retried: nothing written, nothing audited
        assert (await publish_catalogue(s, admin, draft.id, 2090)).published_at == v.published_at
        with pytest.raises(CatalogueVersionRefused) as e:
            await publish_catalogue(s, admin, draft.id, 2091)
        assert e.value.kind == "state"
        with pytest.raises(CatalogueVersionRefused) as e:
            await publish_catalogue(s, admin, uuid.uuid4(), 2091)
        assert e.value.kind == "not_found"
    assert await audit_count(db, city.city) == before + 1

    # The newest version in force wins from its first year; the built-in stays in force before it.
    async with db.session(None) as s:
        assert (await catalogue_in_force(s, 2090))[0] == draft.id
        assert (await catalogue_in_force(s, 2100))[2] == variant(tag)
        assert (await catalogue_in_force(s, 2089))[0] == builtin_catalogue_version

    attempts = [
        "update evaluation_catalogue_version set label = 'x' where id = :v",
        "update evaluation_catalogue_version set status = 'draft' where id = :v",
        "update evaluation_catalogue_version set effective_from = 2095 where id = :v",
        "delete from evaluation_catalogue_version where id = :v",
        "update evaluation_indicator set weight = 30 where version_id = :v and code = 'A01'",
        "delete from evaluation_indicator where version_id = :v and code = 'A01'",
        "insert into evaluation_indicator select :v, 'Z99', 99, dimension, name_zh, name_en, 'zz', direction,"
        " source, unit, 0, 'monitor', formula_zh, formula_en from evaluation_indicator"
        " where version_id = :v and code = 'A04'",
        "update evaluation_dimension set weight = 30 where version_id = :v",
    ]
    for stmt in attempts:
        # As the owner (migration role) too: immutability is the database's, not a permission.
        for url in (test_database.owner_url, test_database.runtime_url):
            engine = create_engine(sync_url(url), poolclass=pool.NullPool)
            with engine.connect() as c:
                with pytest.raises(
                    Exception, match=r"immutable|only a draft|cannot return|only retiring|permission denied"
                ):
                    c.execute(text(stmt), {"v": draft.id})
                c.rollback()
            engine.dispose()


async def test_the_runtime_role_may_not_delete_a_draft_version(test_database, db, city):
    admin = scope_for(Role.city_admin, city.tenants)
    tag = uuid.uuid4().hex[:8]
    async with scoped_session(db, admin) as s:
        draft = (await load_catalogue(s, admin, variant(tag), f"t-{tag}")).version
    engine = create_engine(sync_url(test_database.runtime_url), poolclass=pool.NullPool)
    with engine.connect() as c:
        for stmt in (
            "delete from evaluation_catalogue_version where id = :v",
            "delete from evaluation_indicator where version_id = :v",
            "update evaluation_indicator set weight = 1 where version_id = :v",
        ):
            with pytest.raises(Exception, match="permission denied"):
                c.execute(text(stmt), {"v": draft.id})
            c.rollback()
    engine.dispose()
