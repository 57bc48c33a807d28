"""Shared fixtures of the evaluation tests: the built-in catalogue stored and published (city-wide
data: once per test database, open-ended from 2000)."""

from __future__ import annotations

import pytest

from dianshu.db.session import scoped_session
from dianshu.evaluation.versions import ensure_builtin_catalogue
from dianshu.scope import Role, Scope


@pytest.fixture(scope="session")
async def builtin_catalogue_version(db):
    async with scoped_session(db, Scope(Role.system, (), None, "tests", all_hospitals=True)) as s:
        v = await ensure_builtin_catalogue(s, Scope(Role.system, (), None, "tests", all_hospitals=True))
    return v.id
