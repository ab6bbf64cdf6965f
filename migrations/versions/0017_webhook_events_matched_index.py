"""webhook events: the workspace index holds only events matched to a workspace

Events arrive without a workspace (the worker matches them), so every insert wrote a NULL
entry into (workspace_id, received_at) while Zoom waited for the answer, and SQLite wrote
that index's page into its log at each commit. Partial on ``workspace_id IS NOT NULL``, it
is written when the worker matches the event; every query of it asks for one workspace,
which implies the predicate on both databases.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 23:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

MATCHED = sa.text('workspace_id IS NOT NULL')
NAME, COLUMNS = 'ix_webhook_events_workspace_received', ['workspace_id', 'received_at']


def upgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index(NAME)
        batch_op.create_index(NAME, COLUMNS, unique=False, sqlite_where=MATCHED,
                              postgresql_where=MATCHED)


def downgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index(NAME)
        batch_op.create_index(NAME, COLUMNS, unique=False)
