"""patient ids (psn_no) stored as a keyed hash: every id stored before replaced by its pseudonym

A data migration, no schema change: case_record.patient_id (and its content_hash) and
supervision_finding.patient_id (and a frequent-admission finding's fingerprint) rewritten in place
by dianshu.cases.rehash with the site key, so the migration needs the key: DIANSHU_PSN_KEY or
DIANSHU_PSN_KEY_FILE set for `dianshu migrate` (the chart's migration Job reads it from the Secret),
the same key the API and workers use. Without one it runs with the dev key outside prod (prod
refuses to start). Irreversible: downgrade leaves the pseudonyms (the raw ids are gone by design).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from dianshu.cases.rehash import rehash_patient_ids
    from dianshu.config import get_settings

    rehash_patient_ids(op.get_bind(), get_settings().psn_key_bytes())


def downgrade() -> None:
    # The raw ids are not kept anywhere: nothing to restore.
    pass
