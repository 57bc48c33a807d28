"""upload_chunk kept only while its batch is pending: the bytes of batches already final deleted

An upload's bytes (upload_chunk: the file as sent, patient ids in the clear) are read by the
ingestion job alone, and only while its batch is pending (a failed batch is retried from the file
sent again). From now on the transaction that makes a batch final (done, refused, failed) deletes
them, so the runtime role may delete chunks (under the table's row-level security policy, which
covers every command); this migration deletes the chunks of every batch already final. The upload
rows (file name, size, SHA-256) and the batches (content hash, counts) stay: the same file sent
again is still recognised, and the audit trail is whole. Irreversible for the data: downgrade only
takes the grant back (the deleted bytes are gone by design).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The chunks of an upload whose batch is final. An upload belongs to one batch; a retried batch
# points to the upload sent again, and the failed sending's upload, referenced by no batch, has no
# use either (an upload without a batch is never read: submit_batch stores both in one transaction).
DELETE_FINISHED = """
    delete from upload_chunk k
    where not exists (
        select 1 from ingestion_batch b
        where b.tenant_id = k.tenant_id and b.upload_id = k.upload_id and b.status = 'pending')"""


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.execute(f'grant delete on upload_chunk to "{app}"')
    # As the owner, which row-level security also binds (forced): every tenant in scope.
    op.execute(
        "select set_config('app.tenant_ids', coalesce((select string_agg(code, ',') from tenant), ''), true), "
        "set_config('app.all_hospitals', 'on', true), set_config('app.role', 'system', true)"
    )
    op.execute(DELETE_FINISHED)


def downgrade() -> None:
    app = context.config.attributes["app_role"]
    op.execute(f'revoke delete on upload_chunk from "{app}"')
