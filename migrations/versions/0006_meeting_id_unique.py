"""one Zoom meeting belongs to at most one booking of a workspace

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_zoom_meeting_id')
        batch_op.create_index('ix_meetings_zoom_meeting_id', ['zoom_meeting_id', 'workspace_id'],
                              unique=True)


def downgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_zoom_meeting_id')
        batch_op.create_index('ix_meetings_zoom_meeting_id', ['zoom_meeting_id'], unique=False)
