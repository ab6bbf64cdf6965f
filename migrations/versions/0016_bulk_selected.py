"""bulk jobs on the bookings an operator selected: three more kinds

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 19:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

OLD = "kind IN ('retry_failed', 'resync_upcoming')"
NEW = ("kind IN ('retry_failed', 'resync_upcoming', 'retry_selected', 'resync_selected', "
       "'cancel_selected')")


def _kinds(check):
    # SQLite cannot alter a constraint: batch mode copies the table with the new one.
    with op.batch_alter_table('bulk_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_bulk_jobs_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_bulk_jobs_kind'), check)


def upgrade():
    _kinds(NEW)


def downgrade():
    op.execute("DELETE FROM bulk_jobs WHERE kind IN "
               "('retry_selected', 'resync_selected', 'cancel_selected')")
    _kinds(OLD)
