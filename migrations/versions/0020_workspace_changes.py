"""workspace changes: a version per workspace that triggers change with what the bookings
table shows, so a page kept for one version is shown again only while it stands

Every writer (worker, webhooks, API, bulk jobs, dashboard) is covered by the database, not
by each remembering to say so. Not a counter (random() on SQLite, a sequence on
PostgreSQL): a workspace made again under a reused id must not meet its old versions.
PostgreSQL's triggers are deferred to commit and change a workspace's version once per
transaction (see ``models.workspace_change``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# As ``models.workspace_change`` writes them; a migration keeps its own.
TRACKED = ('bookings', 'meetings', 'operations', 'meeting_drifts', 'bulk_jobs',
           'zoom_connections')
ROWS = (('insert', 'new'), ('update', 'new'), ('delete', 'old'))

SQLITE_START = (
    "CREATE TRIGGER workspace_changes_start AFTER INSERT ON workspaces "
    "BEGIN INSERT INTO workspace_changes (workspace_id, version) VALUES (new.id, random()); END")

POSTGRESQL_FUNCTIONS = (
    "CREATE SEQUENCE workspace_change_versions",
    "CREATE FUNCTION workspace_changes_start() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN INSERT INTO workspace_changes (workspace_id, version) "
    "VALUES (NEW.id, nextval('workspace_change_versions')); RETURN NULL; END $$",
    "CREATE FUNCTION workspace_change_note() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE workspace bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.workspace_id "
    "ELSE NEW.workspace_id END; "
    "noted text := 'lakesis.workspace_changed_' || workspace; "
    "BEGIN IF current_setting(noted, true) IS DISTINCT FROM 'y' THEN "
    "UPDATE workspace_changes SET version = nextval('workspace_change_versions') "
    "WHERE workspace_id = workspace; PERFORM set_config(noted, 'y', true); END IF; "
    "RETURN NULL; END $$",
)


def upgrade():
    op.create_table(
        'workspace_changes',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_workspace_changes_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_workspace_changes')),
    )
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for statement in POSTGRESQL_FUNCTIONS:
            op.execute(statement)
        op.execute("INSERT INTO workspace_changes (workspace_id, version) "
                   "SELECT id, nextval('workspace_change_versions') FROM workspaces")
        op.execute("CREATE TRIGGER workspace_changes_start AFTER INSERT ON workspaces "
                   "FOR EACH ROW EXECUTE FUNCTION workspace_changes_start()")
        for table in TRACKED:
            op.execute(f"CREATE CONSTRAINT TRIGGER workspace_change_{table} "
                       f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                       "EXECUTE FUNCTION workspace_change_note()")
    elif dialect == 'sqlite':
        op.execute("INSERT INTO workspace_changes (workspace_id, version) "
                   "SELECT id, random() FROM workspaces")
        op.execute(SQLITE_START)
        for table in TRACKED:
            for action, row in ROWS:
                op.execute(f"CREATE TRIGGER workspace_change_{table}_{action} "
                           f"AFTER {action.upper()} ON {table} BEGIN UPDATE workspace_changes "
                           f"SET version = random() WHERE workspace_id = {row}.workspace_id; END")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for table in TRACKED:
            op.execute(f"DROP TRIGGER workspace_change_{table} ON {table}")
        op.execute("DROP TRIGGER workspace_changes_start ON workspaces")
        op.execute("DROP FUNCTION workspace_change_note()")
        op.execute("DROP FUNCTION workspace_changes_start()")
    elif dialect == 'sqlite':
        op.execute("DROP TRIGGER workspace_changes_start")
        for table in TRACKED:
            for action, _ in ROWS:
                op.execute(f"DROP TRIGGER workspace_change_{table}_{action}")
    op.drop_table('workspace_changes')
    if dialect == 'postgresql':
        op.execute("DROP SEQUENCE workspace_change_versions")
