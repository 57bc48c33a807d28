"""workstation check: a patient's stays by discharge time

The doctor-workstation check looks up the patient's last discharge before a draft's admission on
every call (readmission within 15 days): one index range scan on (tenant_id, patient_id,
discharge_time), read backwards from the admission time, instead of a scan of the tenant's cases.
Supervision's split-admission rule reads stays in the same order.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_case_record_patient", "case_record", ["tenant_id", "patient_id", "discharge_time"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_case_record_patient", table_name="case_record")
