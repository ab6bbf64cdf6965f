"""Every SQLite connection: foreign keys, a busy wait, WAL; WAL asked for only where the
file is not in it yet (setting it takes a lock SQLite does not wait for)."""

from __future__ import annotations

import sqlite3

from dashboard.orm import _sqlite_pragmas


def _open(path) -> tuple[sqlite3.Connection, list[str]]:
    connection = sqlite3.connect(path)
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    _sqlite_pragmas(connection, None)
    return connection, statements


def test_a_new_file_is_put_in_wal_with_foreign_keys_and_a_busy_wait(tmp_path):
    connection, statements = _open(tmp_path / "new.db")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    # The wait is set before anything else reads the file.
    assert statements[0] == "PRAGMA busy_timeout=10000"
    connection.close()


def test_a_file_already_in_wal_is_not_asked_again(tmp_path):
    _open(tmp_path / "kept.db")[0].close()
    connection, statements = _open(tmp_path / "kept.db")
    assert "PRAGMA journal_mode=WAL" not in statements
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()
