from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from dianshu.analytics.cache import AnswerCache, Seen
from dianshu.config import Settings
from dianshu.db.session import Database
from dianshu.scope import Scope
from dianshu_tenants.context import TenantRegistry
from dianshu_tenants.identity import Principal


@dataclass
class Context:
    """Per request: who asks, under which scope, and the request's dataloaders."""

    request: Any
    response: Any
    settings: Settings
    db: Database
    registry: TenantRegistry
    principal: Principal
    scope: Scope
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    # The app's analytics answers (kept for its lifetime, per refresh); None: not kept.
    answers: AnswerCache | None = None
    # The digests this request's analytics answers were read under, when the whole-response cache
    # (response_cache.py) may keep its response; None: not recorded.
    seen: Seen | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read or write transaction under the caller's scope (commits on success)."""
        from dianshu.db.session import scoped_session

        async with scoped_session(self.db, self.scope) as s:
            yield s

    def loader(self, name: str, factory: Any) -> DataLoader[Any, Any]:
        if name not in self.loaders:
            self.loaders[name] = factory(self)
        return self.loaders[name]
