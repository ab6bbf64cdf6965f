"""zoom connection: the Zoom user's name, for the Integrations page

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 19:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zoom_name', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.drop_column('zoom_name')
