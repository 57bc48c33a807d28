"""scheme versions declare the code edition(s) each table is written in

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

The grouper reads a record's codes in each table's own edition (医保版 / 国临版), so every scheme
version declares them (code_editions.csv). The two built-in schemes' declarations were measured
from their tables against the vendored code sets; versions already stored with exactly those
tables (same content hash) get them here. Any other stored version has no declaration and is
refused for grouping until it is loaded again with a code_editions.csv.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALL_YIBAO = [
    ("mdc_pdx_table.csv", "diagnoses", "yibao"),
    ("adrg_code_lists.csv", "diagnoses", "yibao"),
    ("adrg_code_lists.csv", "procedures", "yibao"),
    ("mcc_list.csv", "diagnoses", "yibao"),
    ("cc_list.csv", "diagnoses", "yibao"),
    ("cc_exclusion_by_pdx.csv", "diagnoses", "yibao"),
    ("or_procedures_ss_valid.csv", "procedures", "yibao"),
    ("conditions", "diagnoses", "yibao"),
    ("conditions", "procedures", "yibao"),
]
# Measured 2026-12-01 (grouping/editions.measure_editions); copied here, never imported.
_BUILTIN = {
    # CHS-DRG 1.1
    "dfd3c5520ef3f030816294003d5b3daefcdebf706266a1615ab371e6a7a6628f": _ALL_YIBAO,
    # ZJ-DRG 2022: its ADRG code lists mix 国临版 and 医保版 codes
    "a87bac05284b7ea0780b55ec770efff50d803ab42754366947b259b2af9744a2": [
        *_ALL_YIBAO,
        ("adrg_code_lists.csv", "diagnoses", "guolin"),
        ("adrg_code_lists.csv", "procedures", "guolin"),
    ],
}


def upgrade() -> None:
    op.create_table(
        "drg_code_edition",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("codes", sa.String(length=12), nullable=False),
        sa.Column("edition", sa.String(length=8), nullable=False),
        sa.CheckConstraint("edition in ('yibao', 'guolin')", name=op.f("ck_drg_code_edition_edition")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["drg_scheme_version.id"],
            name=op.f("fk_drg_code_edition_version_id_drg_scheme_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "table_name", "codes", "edition", name=op.f("pk_drg_code_edition")),
    )
    # The same tables declared in other editions are another version.
    op.add_column("drg_scheme_version", sa.Column("editions_hash", sa.String(length=64), nullable=True))
    op.drop_constraint(op.f("uq_drg_scheme_version_scheme_code_content_hash"), "drg_scheme_version", type_="unique")
    op.create_unique_constraint(
        op.f("uq_drg_scheme_version_scheme_code_content_hash_editions_hash"),
        "drg_scheme_version",
        ["scheme_code", "content_hash", "editions_hash"],
    )
    # Backfill before the rows' guard exists.
    backfill(op)
    # The same statement-level guard as the other rows of a version (migration 0002).
    for event, ref in (("insert", "new"), ("update", "new"), ("delete", "old")):
        op.execute(
            f"create trigger drg_code_edition_{event}_guard after {event} on drg_code_edition "
            f"referencing {ref} table as changed for each statement "
            f"execute function dianshu_version_rows_guard('drg_scheme_version', 'version_id')"
        )
    app = context.config.attributes["app_role"]
    op.execute(f'grant select on drg_code_edition to "{app}"')


def backfill(ops) -> None:
    """Declare the stored built-in versions (by content hash). They are published, so their guard
    (which freezes a published version) is off while their editions hash is set."""
    ops.execute("alter table drg_scheme_version disable trigger drg_scheme_version_guard")
    for digest, rows in _BUILTIN.items():
        declared = hashlib.sha256("".join(f"{t},{k},{e}\n" for t, k, e in sorted(rows)).encode()).hexdigest()
        for table_name, codes, edition in rows:
            ops.execute(
                sa.text(
                    "insert into drg_code_edition (version_id, table_name, codes, edition) "
                    "select id, :t, :c, :e from drg_scheme_version where content_hash = :h and editions_hash is null"
                ).bindparams(t=table_name, c=codes, e=edition, h=digest)
            )
        ops.execute(
            sa.text(
                "update drg_scheme_version set editions_hash = :d where content_hash = :h and editions_hash is null"
            ).bindparams(d=declared, h=digest)
        )
    ops.execute("alter table drg_scheme_version enable trigger drg_scheme_version_guard")


def downgrade() -> None:
    op.drop_table("drg_code_edition")
    op.drop_constraint(
        op.f("uq_drg_scheme_version_scheme_code_content_hash_editions_hash"), "drg_scheme_version", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_drg_scheme_version_scheme_code_content_hash"), "drg_scheme_version", ["scheme_code", "content_hash"]
    )
    op.drop_column("drg_scheme_version", "editions_hash")
