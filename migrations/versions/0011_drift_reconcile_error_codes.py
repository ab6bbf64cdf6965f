"""drift records, our sends (echoes), reconciliation runs, Zoom error codes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'meeting_drifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('zoom_meeting_id', sa.BigInteger(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('detected_by', sa.String(length=16), nullable=False),
        sa.Column('zoom_operator', sa.String(length=64), nullable=True),
        sa.Column('old_join_url', sa.String(length=500), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolution', sa.String(length=16), nullable=True),
        sa.Column('resolved_by', sa.String(length=254), nullable=True),
        sa.CheckConstraint("kind IN ('changed', 'deleted')", name=op.f('ck_meeting_drifts_kind')),
        sa.CheckConstraint("detected_by IN ('webhook', 'reconcile')",
                           name=op.f('ck_meeting_drifts_detected_by')),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='CASCADE',
                                name=op.f('fk_meeting_drifts_booking_id_bookings')),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE',
                                name=op.f('fk_meeting_drifts_workspace_id_workspaces')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_drifts')),
    )
    with op.batch_alter_table('meeting_drifts', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_drifts_booking', ['booking_id', 'resolved_at'])
        batch_op.create_index('ix_meeting_drifts_workspace_open', ['workspace_id', 'resolved_at'])

    op.create_table(
        'meeting_sends',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE',
                                name=op.f('fk_meeting_sends_meeting_id_meetings')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_sends')),
    )
    with op.batch_alter_table('meeting_sends', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_sends_meeting', ['meeting_id', 'sent_at'])

    op.create_table(
        'reconcile_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('requested_by', sa.String(length=254), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('hosts_total', sa.Integer(), nullable=False),
        sa.Column('hosts_done', sa.Integer(), nullable=False),
        sa.Column('meetings_checked', sa.Integer(), nullable=False),
        sa.Column('zoom_calls', sa.Integer(), nullable=False),
        sa.Column('drift_found', sa.Integer(), nullable=False),
        sa.Column('deleted_found', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'succeeded', 'stopped', 'failed')",
                           name=op.f('ck_reconcile_runs_state')),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE',
                                name=op.f('fk_reconcile_runs_workspace_id_workspaces')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_runs')),
    )
    with op.batch_alter_table('reconcile_runs', schema=None) as batch_op:
        batch_op.create_index('ix_reconcile_runs_workspace', ['workspace_id', 'id'])
        batch_op.create_index('ix_reconcile_runs_state', ['state'])

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('tracking_id', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('previous_join_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('join_url_changed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('tracking_id', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.drop_column('tracking_id')
        batch_op.drop_column('error_code')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('join_url_changed_at')
        batch_op.drop_column('previous_join_url')
        batch_op.drop_column('tracking_id')
        batch_op.drop_column('error_code')
    with op.batch_alter_table('reconcile_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_reconcile_runs_state')
        batch_op.drop_index('ix_reconcile_runs_workspace')
    op.drop_table('reconcile_runs')
    with op.batch_alter_table('meeting_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_sends_meeting')
    op.drop_table('meeting_sends')
    with op.batch_alter_table('meeting_drifts', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_drifts_workspace_open')
        batch_op.drop_index('ix_meeting_drifts_booking')
    op.drop_table('meeting_drifts')
