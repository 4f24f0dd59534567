"""correction terms: a window's correction variance per true class, not one upper bound

Revision ID: 0006_correction_terms
Revises: 0005_edits
Create Date: 2026-12-01

acc_cv / pacc_cv held the bound max_j Var(negative share | p_j = 1), applied to every class. They now
hold the true-negative column's term, and the new columns the true-neutral and true-positive ones,
so an interval is as wide as the correction's error makes it, not as its widest column. Windows
stored before get the bound in all three, which reads exactly as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_correction_terms"
down_revision = "0005_edits"
branch_labels = None
depends_on = None

BACKFILL = {
    "acc_cv_neu": "acc_cv", "acc_cv_pos": "acc_cv", "pacc_cv_neu": "pacc_cv", "pacc_cv_pos": "pacc_cv",
}  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("topic_windows") as batch:
        for name in BACKFILL:
            batch.add_column(sa.Column(name, sa.Float(), nullable=False, server_default="0"))
    windows = sa.table("topic_windows", *(sa.column(c) for c in (*BACKFILL, "acc_cv", "pacc_cv")))
    op.execute(windows.update().values({k: windows.c[v] for k, v in BACKFILL.items()}))


def downgrade() -> None:
    with op.batch_alter_table("topic_windows") as batch:
        for name in BACKFILL:
            batch.drop_column(name)
