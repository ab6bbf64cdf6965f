"""Each workspace's data version: a value that changes, in the same transaction, with every
write to what the bookings table shows (bookings, meetings, operations, drifts, bulk jobs,
the Zoom connection).

Triggers keep it, so no writer can forget it: the worker, Zoom's webhooks, the API, bulk
jobs and the dashboard write those tables through the ORM and Core alike. A page kept for
one version (``dashboard.page_cache``) is shown again only while the version stands.

- Not a counter: SQLite sets ``random()``, PostgreSQL the next value of a sequence. A counter
  starts again with a workspace made again under a reused id (SQLite reuses the highest),
  and could meet a page kept for the old one.
- PostgreSQL: constraint triggers deferred to commit, so the row is locked only while the
  transaction commits. Locked from the first write to the commit, it would queue every
  writer of the workspace behind the other, and deadlock two transactions that lock some
  other row (the Zoom connection's) in the other order. A transaction changes the version
  once (a setting local to it), however many rows it writes.
- SQLite: row triggers; the database has one writer at a time.

Migration 0020 writes the same schema; ``create_all`` (the tests) gets it from here.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, ForeignKey, MetaData, event, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from dashboard.extensions import db
from dashboard.models.accounts import Workspace

TRACKED = ("bookings", "meetings", "operations", "meeting_drifts", "bulk_jobs",
           "zoom_connections")


class WorkspaceChange(db.Model):
    __tablename__ = "workspace_changes"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


# Loaded only where asked for: with the memberships (``services.accounts``), the first read
# of every request, so the page cache has it before anything of the page, at no extra query.
Workspace.data_version = column_property(
    select(WorkspaceChange.version).where(WorkspaceChange.workspace_id == Workspace.id)
    .correlate_except(WorkspaceChange).scalar_subquery(), deferred=True)


def sqlite_ddl() -> list[str]:
    statements = [
        "CREATE TRIGGER IF NOT EXISTS workspace_changes_start AFTER INSERT ON workspaces "
        "BEGIN INSERT INTO workspace_changes (workspace_id, version) VALUES (new.id, random()); "
        "END"]
    for table in TRACKED:
        for action, row in (("insert", "new"), ("update", "new"), ("delete", "old")):
            change = (f"UPDATE workspace_changes SET version = random() "  # noqa: S608
                      f"WHERE workspace_id = {row}.workspace_id")  # this module's constants
            statements.append(f"CREATE TRIGGER IF NOT EXISTS workspace_change_{table}_{action} "
                              f"AFTER {action.upper()} ON {table} BEGIN {change}; END")
    return statements


POSTGRESQL_FUNCTIONS = (
    "CREATE SEQUENCE IF NOT EXISTS workspace_change_versions",
    "CREATE OR REPLACE FUNCTION workspace_changes_start() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN INSERT INTO workspace_changes (workspace_id, version) "
    "VALUES (NEW.id, nextval('workspace_change_versions')); RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION workspace_change_note() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE workspace bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.workspace_id "
    "ELSE NEW.workspace_id END; "
    "noted text := 'lakesis.workspace_changed_' || workspace; "
    "BEGIN IF current_setting(noted, true) IS DISTINCT FROM 'y' THEN "
    "UPDATE workspace_changes SET version = nextval('workspace_change_versions') "
    "WHERE workspace_id = workspace; PERFORM set_config(noted, 'y', true); END IF; "
    "RETURN NULL; END $$",
)


def postgresql_triggers() -> list[str]:
    statements = [
        "CREATE TRIGGER workspace_changes_start AFTER INSERT ON workspaces "
        "FOR EACH ROW EXECUTE FUNCTION workspace_changes_start()"]
    statements += [
        f"CREATE CONSTRAINT TRIGGER workspace_change_{table} AFTER INSERT OR UPDATE OR DELETE "
        f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION workspace_change_note()" for table in TRACKED]
    return statements


POSTGRESQL_DROP = ("DROP FUNCTION IF EXISTS workspace_change_note() CASCADE",
                   "DROP FUNCTION IF EXISTS workspace_changes_start() CASCADE",
                   "DROP SEQUENCE IF EXISTS workspace_change_versions")


def install(metadata: MetaData) -> None:
    """What ``create_all`` adds once every table is there: the triggers (and PostgreSQL's
    functions and sequence); ``drop_all`` takes those away after the tables."""
    for statement in sqlite_ddl():
        event.listen(metadata, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in (*POSTGRESQL_FUNCTIONS, *postgresql_triggers()):
        event.listen(metadata, "after_create", DDL(statement).execute_if(dialect="postgresql"))
    for statement in POSTGRESQL_DROP:
        event.listen(metadata, "after_drop", DDL(statement).execute_if(dialect="postgresql"))


install(db.metadata)
