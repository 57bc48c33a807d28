"""all hospitals is a flag, not a hospital code

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Until now `app.hospital_id = '*'` meant "every hospital of the tenants in scope", so a hospital
whose code was `*` gave its users the whole region. "All hospitals" is now its own per-transaction
setting (`app.all_hospitals = 'on'`); the hospital setting is compared by equality only. Same
function signature, so every policy written with dianshu_hospital_visible() keeps working; the one
policy that read the setting directly (review_assignment) is rewritten.
"""

from collections.abc import Sequence

from alembic import op

from dianshu.db import rls

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TENANT = "tenant_id = any (dianshu_tenant_ids())"
_EXPERT = "current_setting('app.role', true) = 'expert'"
_ACTOR = "current_setting('app.actor', true)"

_OLD_VISIBLE = """
create or replace function dianshu_hospital_visible(h text) returns boolean
language sql stable parallel safe as $$
  select coalesce(
    nullif(pg_catalog.current_setting('app.hospital_id', true), '') = '*'
    or h = nullif(pg_catalog.current_setting('app.hospital_id', true), ''),
    false)
$$;
"""


def _review_assignment_policy(all_hospitals: str) -> list[str]:
    return [
        "drop policy review_assignment_scope on review_assignment",
        f"create policy review_assignment_scope on review_assignment using ({_TENANT} and ("
        f"{all_hospitals} or ({_EXPERT} and expert = {_ACTOR})))",
    ]


def upgrade() -> None:
    op.execute(rls.HOSPITAL_VISIBLE)
    for stmt in _review_assignment_policy("dianshu_all_hospitals()"):
        op.execute(stmt)


def downgrade() -> None:
    for stmt in _review_assignment_policy("current_setting('app.hospital_id', true) = '*'"):
        op.execute(stmt)
    op.execute(_OLD_VISIBLE)
    op.execute("drop function if exists dianshu_all_hospitals()")
