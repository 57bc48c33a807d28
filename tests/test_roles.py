"""Roles are cluster-wide: two migrations creating the same role at once (parallel test workers on a
fresh server, two deployments sharing one) must both succeed."""

from __future__ import annotations

import secrets
import threading

from sqlalchemy import create_engine, pool, text

from dianshu.db.roles import _create_role
from dianshu.db.session import sync_url


def test_two_concurrent_creations_of_one_role_both_succeed(test_database):
    name = f"dianshu_race_{secrets.token_hex(4)}"
    engine = create_engine(sync_url(test_database.owner_url), poolclass=pool.NullPool)
    first_created = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as c:
                first_created.wait(10)
                # Blocks on the first transaction's uncommitted role, then loses the unique index race.
                _create_role(c, f'create role "{name}" nologin')
        except BaseException as e:
            errors.append(e)

    try:
        t = threading.Thread(target=second)
        with engine.begin() as c:
            _create_role(c, f'create role "{name}" nologin')
            t.start()
            first_created.set()
            t.join(0.5)  # the second is now waiting on this transaction
        t.join(20)
        assert not t.is_alive() and errors == []
        with engine.connect() as c:
            assert c.execute(text("select count(*) from pg_roles where rolname = :n"), {"n": name}).scalar() == 1
            _create_role(c, f'create role "{name}" nologin')  # and again, sequentially: a no-op
    finally:
        with engine.begin() as c:
            c.execute(text(f'drop role if exists "{name}"'))
        engine.dispose()
