"""edits: what a post added to its windows, so an edit or deletion at the source can take it back

Revision ID: 0005_edits
Revises: 0004_accounts
Create Date: 2026-12-01

posts.quant holds the post's corrected sums (sentimon.quantify.QUANT_SUMS), posts.version the
source's version of the text it was scored on, posts.deleted_at when the source deleted it.
topic_windows.rev counts every change applied to a window (a post added, taken back or moved), so
live views can tell a newer total from an older one when a deletion makes it smaller. Existing
windows start at rev = n (each post was one change); their posts carry no quant (an edit of one
takes back plain counting, as 0003 backfilled).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_edits"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("quant", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("version", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("topic_windows") as batch:
        batch.add_column(sa.Column("rev", sa.BigInteger(), nullable=False, server_default="0"))
    windows = sa.table("topic_windows", sa.column("rev"), sa.column("n"))
    op.execute(windows.update().values(rev=windows.c.n))


def downgrade() -> None:
    with op.batch_alter_table("topic_windows") as batch:
        batch.drop_column("rev")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("version")
        batch.drop_column("quant")
