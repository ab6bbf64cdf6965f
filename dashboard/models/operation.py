"""The outbox: Zoom work to do for a booking, written in the booking change's transaction."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, String, literal, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.extensions import db
from dashboard.models.booking import Booking
from dashboard.orm import utcnow


class OperationKind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CANCEL = "cancel"
    RESYNC = "resync"


class OperationState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"  # parked until Zoom is connected again
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # Zoom refused it for good; an operator decides
    DEAD = "dead"  # gave up after the last attempt; an operator may retry

    # Named sets, so "unfinished work" has one spelling (plain strings: a StrEnum member
    # equals its value, and SQL ``in_`` takes them as they are).
    #: work not yet settled: still to run, running, or parked for the connection
    UNFINISHED = enum.nonmember(frozenset({"queued", "running", "waiting"}))
    #: work a worker may hold now or soon: it blocks a booking's later operations
    CLAIMABLE = enum.nonmember(frozenset({"queued", "running"}))
    #: work waiting its turn that a newer request may still fold into
    PENDING = enum.nonmember(frozenset({"queued", "waiting"}))
    #: work that ended without success and needs an operator
    GAVE_UP = enum.nonmember(frozenset({"failed", "dead"}))
    #: work that has ended one way or the other
    FINISHED = enum.nonmember(frozenset({"succeeded", "failed", "dead"}))


#: The outcome of work Lakesis settled itself, without a Zoom call (``outbox._supersede``).
SUPERSEDED_PREFIX = "superseded by "
SUPERSEDED_WHERE = f"outcome LIKE '{SUPERSEDED_PREFIX}%'"


class Operation(db.Model):
    __tablename__ = "operations"
    __table_args__ = (
        Index("ix_operations_due", "state", "next_attempt_at"),
        Index("ix_operations_booking", "booking_id", "id"),
        Index("ix_operations_workspace_state", "workspace_id", "state"),
        # The sync health page's window: what finished in the last hour, day or week (with
        # the state, so counting them by state reads the index alone).
        Index("ix_operations_workspace_finished", "workspace_id", "finished_at", "state"),
        # The few settled without a Zoom call, so the page can leave them out of the chart
        # without reading the table for every operation of the window.
        Index("ix_operations_superseded", "workspace_id", "finished_at",
              sqlite_where=text(SUPERSEDED_WHERE), postgresql_where=text(SUPERSEDED_WHERE)),
        CheckConstraint("kind IN ('create', 'update', 'cancel', 'resync')", name="kind"),
        CheckConstraint("state IN ('queued', 'running', 'waiting', 'succeeded', 'failed', "
                        "'dead')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=OperationState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A claim is a lease: a worker killed mid-run leaves it to expire, then another takes over.
    locked_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    error_code: Mapped[str | None] = mapped_column(String(32))  # Zoom's, of the last failure
    tracking_id: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str | None] = mapped_column(String(300))
    requested_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]

    booking: Mapped[Booking] = relationship()


def superseded() -> ColumnElement[bool]:
    """Operations Lakesis settled without a Zoom call. The pattern is written into the SQL,
    as the partial index's predicate is, so both databases can match it to the index."""
    return Operation.outcome.like(literal(f"{SUPERSEDED_PREFIX}%", literal_execute=True))
