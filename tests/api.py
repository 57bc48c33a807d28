"""Calling the real ASGI app in tests."""

from __future__ import annotations

from typing import Any

import httpx

from dianshu.config import Settings
from dianshu.scope import Role
from dianshu_graphql.app import create_app
from dianshu_tenants.identity import TokenCodec


class Api:
    def __init__(self, settings: Settings, db: Any) -> None:
        self.settings = settings
        self.app = create_app(settings, db=db, check_role=False)
        self.codec = TokenCodec(settings)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test")

    def token(self, role: Role, tenants: list[str], hospital: str | None = None, sa: str | None = None) -> str:
        return self.codec.encode(
            subject=f"t-{role.value}", role=role, tenant_ids=tenants, hospital_id=hospital, service_account=sa
        )

    async def post(self, token: str | None, query: str, variables: dict | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def gql(self, token: str | None, query: str, variables: dict | None = None) -> dict:
        r = await self.post(token, query, variables)
        assert r.status_code == 200, r.text
        body = r.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]
