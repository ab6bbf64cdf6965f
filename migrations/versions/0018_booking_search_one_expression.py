"""bookings search on PostgreSQL: one trigram index over all searched text, with statistics

The four per-column trigram indexes served a search only when the planner chose them, and
it could not tell a rare name from a common one: ILIKE over four columns was estimated at
thousands of matches whatever the term, so a rare name walked the start-time index through
most of the workspace (0.8 s warm, 7 s cold at 1,000,000 bookings). PostgreSQL keeps
statistics on an index's expression, so one index over the four columns joined gives the
planner the estimate it lacked: few matches read the index, many walk the start time.
SQLite's FTS table is unchanged.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 01:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

SEARCHED = ('title', 'customer_name', 'customer_email', 'external_ref')
# As models.booking_search.SEARCH_TEXT says it (the planner matches the expression itself).
SEARCH_TEXT = "title || chr(31) || customer_name || chr(31) || customer_email || chr(31) || external_ref"


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f'CREATE INDEX ix_bookings_search_trgm ON bookings USING gin '
               f'(({SEARCH_TEXT}) gin_trgm_ops)')
    op.execute('ANALYZE bookings')  # the expression's statistics, at once
    for column in SEARCHED:
        op.drop_index(f'ix_bookings_{column}_trgm', table_name='bookings')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column in SEARCHED:
        op.create_index(f'ix_bookings_{column}_trgm', 'bookings', [column],
                        postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})
    op.drop_index('ix_bookings_search_trgm', table_name='bookings')
