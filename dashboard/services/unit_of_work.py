"""One transaction per use case: services commit what they did, or roll it all back.

Views never touch the session: a service that refuses a request (``ServiceError``) or
fails has already rolled back, so nothing half-done lingers for a later commit to write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dashboard.extensions import db


@contextmanager
def transaction() -> Iterator[None]:
    """Commit on success; on any exception roll back and re-raise."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def discard() -> None:
    """Forget whatever the session holds unsaved (a refused form's half-applied changes)."""
    db.session.rollback()
