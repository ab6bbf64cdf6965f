"""bookings search served by an index: trigram GIN on PostgreSQL, an FTS5 table on SQLite

PostgreSQL needs the pg_trgm extension (a trusted extension since PostgreSQL 13: the
database's owner may create it). SQLite's FTS5 table follows the bookings through triggers;
it is filled from the bookings already there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 20:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

SEARCHED = ('title', 'customer_name', 'customer_email', 'external_ref')
SQLITE_DDL = (
    "CREATE VIRTUAL TABLE booking_search USING fts5(title, customer_name, customer_email, "
    "external_ref, content='bookings', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER booking_search_insert AFTER INSERT ON bookings BEGIN "
    "INSERT INTO booking_search(rowid, title, customer_name, customer_email, external_ref) "
    "VALUES (new.id, new.title, new.customer_name, new.customer_email, new.external_ref); END",
    "CREATE TRIGGER booking_search_delete AFTER DELETE ON bookings BEGIN "
    "INSERT INTO booking_search(booking_search, rowid, title, customer_name, customer_email, "
    "external_ref) VALUES ('delete', old.id, old.title, old.customer_name, old.customer_email, "
    "old.external_ref); END",
    "CREATE TRIGGER booking_search_update AFTER UPDATE OF title, customer_name, "
    "customer_email, external_ref ON bookings BEGIN "
    "INSERT INTO booking_search(booking_search, rowid, title, customer_name, customer_email, "
    "external_ref) VALUES ('delete', old.id, old.title, old.customer_name, old.customer_email, "
    "old.external_ref); "
    "INSERT INTO booking_search(rowid, title, customer_name, customer_email, external_ref) "
    "VALUES (new.id, new.title, new.customer_name, new.customer_email, new.external_ref); END",
    "INSERT INTO booking_search(booking_search) VALUES ('rebuild')",
)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for column in SEARCHED:
            op.create_index(f'ix_bookings_{column}_trgm', 'bookings', [column],
                            postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})
    elif dialect == 'sqlite':
        for statement in SQLITE_DDL:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for column in SEARCHED:
            op.drop_index(f'ix_bookings_{column}_trgm', table_name='bookings')
    elif dialect == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER booking_search_{trigger}')
        op.execute('DROP TABLE booking_search')
