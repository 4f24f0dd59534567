"""quantification: the corrected sums per topic window that prior-shift-corrected shares need

Revision ID: 0003_quantification
Revises: 0002_alerting
Create Date: 2026-12-01

Windows stored before this revision get the uncorrected values (ACC sums = label counts, PACC sums
= probability sums, no variance terms): their model's correction statistics were not recorded, so
they read as plain counting until they age out.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_quantification"
down_revision = "0002_alerting"
branch_labels = None
depends_on = None

COLUMNS = ("sq_neg", "acc_neg", "acc_neu", "acc_pos", "acc_sq", "acc_cv",
           "pacc_neg", "pacc_neu", "pacc_pos", "pacc_sq", "pacc_cv")  # fmt: skip
BACKFILL = {
    "acc_neg": "n_neg", "acc_neu": "n_neu", "acc_pos": "n_pos", "acc_sq": "n_neg",
    "pacc_neg": "sum_neg", "pacc_neu": "sum_neu", "pacc_pos": "sum_pos",
}  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("topic_windows") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Float(), nullable=False, server_default="0"))
    windows = sa.table("topic_windows", *(sa.column(c) for c in (*COLUMNS, *set(BACKFILL.values()))))
    op.execute(windows.update().values({k: windows.c[v] for k, v in BACKFILL.items()}))


def downgrade() -> None:
    with op.batch_alter_table("topic_windows") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
