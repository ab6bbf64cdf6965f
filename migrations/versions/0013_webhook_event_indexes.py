"""webhook events: only the indexes something reads (a partial index for the worker's queue)

Every insert writes every index while Zoom waits for the answer: ``event`` was read by
nothing, ``workspace_id`` alone is the leading column of (workspace_id, received_at), and
``processed_at`` held every event ever applied where the worker only asks for those not
applied yet.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

PENDING = sa.text('processed_at IS NULL')


def upgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_event')
        batch_op.drop_index('ix_webhook_events_workspace_id')
        batch_op.drop_index('ix_webhook_events_processed_at')
        batch_op.create_index('ix_webhook_events_pending', ['id'], unique=False,
                              sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_pending')
        batch_op.create_index('ix_webhook_events_processed_at', ['processed_at'], unique=False)
        batch_op.create_index('ix_webhook_events_workspace_id', ['workspace_id'], unique=False)
        batch_op.create_index('ix_webhook_events_event', ['event'], unique=False)
