"""The index that serves the bookings search (title, customer, email, reference; any part).

PostgreSQL: one trigram GIN index (pg_trgm) over the four columns joined (``SEARCH_TEXT``),
which serves ``ILIKE '%term%'`` on that text; its statistics tell the planner a rare term
from a common one (per-column indexes left it guessing, migration 0018).
SQLite: an FTS5 table with the trigram tokenizer over the same columns, kept by triggers;
``MATCH`` finds the bookings holding the term anywhere, without reading the table. Both
need three characters at least: a shorter term is matched by scanning, as before.

The migrations (0014, 0018) write the same schema; ``create_all`` (the tests) gets it from here.
"""

from __future__ import annotations

from sqlalchemy import DDL, MetaData, Table, event, literal_column, text
from sqlalchemy.sql.elements import ColumnElement

SEARCHED = ("title", "customer_name", "customer_email", "external_ref")
MIN_LENGTH = 3  # a trigram index finds nothing shorter

# Spelled out (migration 0014 says the same, without IF NOT EXISTS): the trigger bodies
# are the FTS5 manual's for an external-content table.
SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS booking_search USING fts5(title, customer_name, "
    "customer_email, external_ref, content='bookings', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS booking_search_insert AFTER INSERT ON bookings BEGIN "
    "INSERT INTO booking_search(rowid, title, customer_name, customer_email, external_ref) "
    "VALUES (new.id, new.title, new.customer_name, new.customer_email, new.external_ref); END",
    "CREATE TRIGGER IF NOT EXISTS booking_search_delete AFTER DELETE ON bookings BEGIN "
    "INSERT INTO booking_search(booking_search, rowid, title, customer_name, customer_email, "
    "external_ref) VALUES ('delete', old.id, old.title, old.customer_name, old.customer_email, "
    "old.external_ref); END",
    "CREATE TRIGGER IF NOT EXISTS booking_search_update AFTER UPDATE OF title, customer_name, "
    "customer_email, external_ref ON bookings BEGIN "
    "INSERT INTO booking_search(booking_search, rowid, title, customer_name, customer_email, "
    "external_ref) VALUES ('delete', old.id, old.title, old.customer_name, old.customer_email, "
    "old.external_ref); "
    "INSERT INTO booking_search(rowid, title, customer_name, customer_email, external_ref) "
    "VALUES (new.id, new.title, new.customer_name, new.customer_email, new.external_ref); END",
)
_MATCHES = text("SELECT rowid FROM booking_search WHERE booking_search MATCH :phrase")


# chr(31), the unit separator, keeps a term from matching across two columns; a constant
# in the SQL (a bound parameter would not be the indexed expression).
SEPARATOR = "chr(31)"
SEARCH_TEXT = f" || {SEPARATOR} || ".join(SEARCHED)
POSTGRESQL_DDL = (
    f"CREATE INDEX ix_bookings_search_trgm ON bookings USING gin (({SEARCH_TEXT}) gin_trgm_ops)",)


def install(metadata: MetaData, bookings: Table) -> None:
    """What ``create_all`` adds around the tables: the extension first; after ``bookings``,
    its trigram indexes or its FTS table and triggers. (Not Index objects on the model:
    Alembic would want them on SQLite too; ``extensions.schema_of_models`` leaves these
    to migration 0014.)"""
    event.listen(metadata, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                 .execute_if(dialect="postgresql"))
    for dialect, statements in (("postgresql", POSTGRESQL_DDL), ("sqlite", SQLITE_DDL)):
        for statement in statements:
            event.listen(bookings, "after_create", DDL(statement).execute_if(dialect=dialect))
    # The triggers go with the table; the FTS table would outlive it.
    event.listen(bookings, "after_drop", DDL("DROP TABLE IF EXISTS booking_search")
                 .execute_if(dialect="sqlite"))


def search_text(bookings: Table) -> ColumnElement:
    """The text PostgreSQL's search index holds for each booking of ``bookings``."""
    text_ = bookings.c[SEARCHED[0]]
    for column in SEARCHED[1:]:
        text_ = text_.op("||")(literal_column(SEPARATOR)).op("||")(bookings.c[column])
    return text_


def fts_match(booking_id: ColumnElement, term: str) -> ColumnElement:
    """``booking_id`` is among the FTS table's matches of ``term`` (as one phrase: quotes
    doubled, so nothing in it is FTS syntax)."""
    phrase = '"' + term.replace('"', '""') + '"'
    return booking_id.in_(_MATCHES.bindparams(phrase=phrase))
