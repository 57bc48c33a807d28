"""dianshu.db.planner: a block's planner settings hold inside it only, and only known settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from dianshu.db.planner import HASH_JOINS, planner_settings
from dianshu.db.session import scoped_session


async def settings(s) -> tuple[str, str, str]:
    row = (
        await s.execute(
            text(
                "select current_setting('enable_nestloop'), current_setting('enable_mergejoin'),"
                " current_setting('work_mem')"
            )
        )
    ).one()
    return tuple(row)


async def test_settings_hold_inside_the_block_and_come_back_after(db):
    async with scoped_session(db, None) as s:
        before = await settings(s)
        assert before[:2] == ("on", "on")  # the server's defaults
        async with planner_settings(s, HASH_JOINS):
            assert (await settings(s))[:2] == ("off", "off")
            async with planner_settings(s, {"work_mem": "64MB"}):
                assert await settings(s) == ("off", "off", "64MB")
            assert (await settings(s))[2] == before[2]
        assert await settings(s) == before


async def test_an_error_in_the_block_leaves_nothing_set_after_the_rollback(db):
    with pytest.raises(RuntimeError):
        async with scoped_session(db, None) as s:
            async with planner_settings(s, HASH_JOINS):
                raise RuntimeError("the block failed")
    async with scoped_session(db, None) as s:
        assert (await settings(s))[:2] == ("on", "on")


async def test_only_known_settings(db):
    async with scoped_session(db, None) as s:
        with pytest.raises(ValueError, match="search_path"):
            async with planner_settings(s, {"search_path": "evil"}):
                pass
