"""Bookings and their Zoom meetings: each change and its outbox operation in one transaction.

Every change commits through ``unit_of_work.transaction``: a refusal (``ServiceError``) or a
failure leaves nothing in the session. What an operator may do to a booking is decided by
``booking_actions.offered_actions``; the changes below refuse what it does not offer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql.elements import ColumnElement

from dashboard import plain_text
from dashboard.extensions import db
from dashboard.models import (
    Booking,
    BookingState,
    Meeting,
    MeetingStatus,
    Operation,
    OperationKind,
    OperationState,
    Workspace,
    booking_search,
)
from dashboard.services import NotFound, ServiceError, drift, outbox
from dashboard.services.audit import Actor, record
from dashboard.services.booking_actions import BookingActions, Offer, offered_actions
from dashboard.services.booking_input import TEXT_LIMITS, NewBooking
from dashboard.services.sync_windows import not_before
from dashboard.services.unit_of_work import transaction

_PUBLIC_ID = re.compile(r"[0-9a-f]{32}")


class Conflict(ServiceError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field, 409)


def _target(booking: Booking) -> tuple[str, int, str]:
    return ("booking", booking.id, f"{booking.title} ({booking.external_ref})")


def _refuse_unless(offer: Offer) -> None:
    if not offer.allowed:
        raise Conflict(offer.reason or "This booking does not offer that now.")


def _locked(booking: Booking) -> None:
    """Take the booking's lock and read it (and its meeting) again under it: two operators
    acting on one booking at once decide one after the other, the second seeing what the
    first did (one Retry enqueues, the other hears the work is on its way)."""
    outbox.lock(booking.id)
    db.session.refresh(booking)
    db.session.refresh(booking.meeting)


def actions(booking: Booking) -> BookingActions:
    """What an operator may do to ``booking`` now, and why not."""
    return offered_actions(booking, open_operation=_open_operation(booking) is not None,
                           drift=drift.open_drift(booking.id))


def get(workspace: Workspace, booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.workspace_id != workspace.id:
        raise NotFound("booking")
    return booking


def many(workspace: Workspace, ids: list[int]) -> list[Booking]:
    """The workspace's bookings among ``ids``, with their meetings, in id order."""
    if not ids:
        return []
    return list(db.session.scalars(
        select(Booking).join(Booking.meeting).options(contains_eager(Booking.meeting))
        .where(Booking.workspace_id == workspace.id, Booking.id.in_(ids))
        .order_by(Booking.id)).unique())


def get_public(workspace: Workspace, public_id: str) -> Booking:
    # Public ids are 32 hex digits; anything else (a NUL byte breaks PostgreSQL) is unknown.
    if not _PUBLIC_ID.fullmatch(public_id):
        raise NotFound("booking")
    booking = db.session.scalar(select(Booking).where(
        Booking.public_id == public_id, Booking.workspace_id == workspace.id))
    if booking is None:
        raise NotFound("booking")
    return booking


def get_by_ref(workspace: Workspace, external_ref: str) -> Booking:
    """The booking the workflow made with ``external_ref`` (unique per workspace)."""
    if not external_ref or len(external_ref) > TEXT_LIMITS["external_ref"] or (
            plain_text.problem(external_ref)):
        raise NotFound("booking")
    booking = db.session.scalar(select(Booking).where(
        Booking.external_ref == external_ref, Booking.workspace_id == workspace.id))
    if booking is None:
        raise NotFound("booking")
    return booking


def create(workspace: Workspace, actor: Actor, new: NewBooking) -> tuple[Booking, bool]:
    """Create a booking with a pending meeting and its create operation, atomically.

    Idempotent on ``external_ref``: the same fields again return the first booking
    (``created`` False); other fields under the same reference are a Conflict.
    """
    fingerprint = new.fingerprint()
    existing = db.session.scalar(select(Booking).where(
        Booking.workspace_id == workspace.id, Booking.external_ref == new.external_ref))
    if existing is None:
        booking = Booking(
            workspace_id=workspace.id, external_ref=new.external_ref, kind=new.kind,
            title=new.title, start_at=new.start_at, duration_minutes=new.duration_minutes,
            timezone=new.timezone, host_email=new.host_email, customer_name=new.customer_name,
            customer_email=new.customer_email, fingerprint=fingerprint)
        booking.meeting = Meeting(workspace_id=workspace.id)
        try:
            # Rolled back on any failure: a flushed booking left in the session would be
            # written by a later commit without its operation.
            with transaction():
                db.session.add(booking)
                db.session.flush()
                outbox.enqueue(booking, OperationKind.CREATE, actor.label)
                record(workspace.id, actor, "booking.created", _target(booking),
                       start=new.start_at.isoformat(), duration_minutes=new.duration_minutes)
            return booking, True
        except IntegrityError:  # the same reference arrived twice at once: the first won
            existing = db.session.scalar(select(Booking).where(
                Booking.workspace_id == workspace.id, Booking.external_ref == new.external_ref))
    if existing is not None and existing.fingerprint == fingerprint:
        return existing, False
    raise Conflict("A booking with this external_ref already exists with other details.",
                   "external_ref")


def reschedule(workspace: Workspace, actor: Actor, booking: Booking,
               changes: dict[str, Any]) -> Booking:
    """Apply new time, duration, zone, title or host; the meeting follows."""
    with transaction():
        _locked(booking)
        _refuse_unless(actions(booking).reschedule)
        before = {name: getattr(booking, name) for name in changes}
        changed = {name: value for name, value in changes.items() if before[name] != value}
        if not changed:
            return booking
        for name, value in changed.items():
            setattr(booking, name, value)
        _in_flight(booking)
        outbox.enqueue(booking, OperationKind.UPDATE, actor.label)
        record(workspace.id, actor, "booking.rescheduled", _target(booking),
               **{name: _plain(value) for name, value in changed.items()})
    return booking


def cancel(workspace: Workspace, actor: Actor, booking: Booking) -> Booking:
    """Cancel the booking; its Zoom meeting is deleted. Cancelling twice changes nothing
    (the second answers the cancelled booking, not a refusal)."""
    if booking.state == BookingState.CANCELLED:
        return booking
    with transaction():
        _locked(booking)
        if booking.state == BookingState.CANCELLED:  # cancelled meanwhile
            return booking
        _refuse_unless(actions(booking).cancel)
        booking.state = BookingState.CANCELLED.value
        _in_flight(booking)
        outbox.enqueue(booking, OperationKind.CANCEL, actor.label)
        record(workspace.id, actor, "booking.cancelled", _target(booking))
    return booking


def retry(workspace: Workspace, actor: Actor, booking: Booking) -> Operation | None:
    """An operator's 'try again': the work this booking's meeting still needs."""
    with transaction():
        _locked(booking)
        _refuse_unless(actions(booking).retry)
        meeting = booking.meeting
        if booking.state == BookingState.CANCELLED:
            kind = OperationKind.CANCEL
        elif meeting.zoom_meeting_id and meeting.status != MeetingStatus.DELETED_IN_ZOOM:
            kind = OperationKind.UPDATE
        else:
            kind = OperationKind.CREATE
            meeting.zoom_meeting_id = None
        _in_flight(booking)
        op = outbox.enqueue(booking, kind, actor.label)
        record(workspace.id, actor, "booking.retried", _target(booking), kind=kind.value)
    return op


def resync(workspace: Workspace, actor: Actor, booking: Booking) -> Operation | None:
    """Read the meeting back from Zoom and show what differs."""
    with transaction():
        _locked(booking)
        _refuse_unless(actions(booking).resync)
        op = outbox.enqueue(booking, OperationKind.RESYNC, actor.label)
        record(workspace.id, actor, "booking.resync_requested", _target(booking))
    return op


def _in_flight(booking: Booking) -> None:
    booking.meeting.status = MeetingStatus.PENDING.value
    booking.meeting.last_error = booking.meeting.error_code = None
    booking.meeting.tracking_id = None


def _open_operation(booking: Booking) -> Operation | None:
    return db.session.scalar(select(Operation).where(
        Operation.booking_id == booking.id,
        Operation.state.in_(OperationState.CLAIMABLE)).limit(1))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class BookingFilters:
    status: str | None = None  # a MeetingStatus, or "cancelled" for cancelled bookings
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    #: bookings with an operation in this state: open ones now, finished ones since
    #: ``sync_since`` (what each number on the sync health page counts)
    sync: str | None = None
    sync_since: datetime | None = None


@dataclass(frozen=True)
class BookingPage:
    bookings: list[Any]  # Bookings, or TableBookings for the table
    next_cursor: str | None
    previous_cursor: str | None = None


def _cursor(booking: Booking | TableBooking) -> str:
    return f"{booking.start_at.timestamp():.0f}_{booking.id}"


def _after(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        stamp, raw_id = cursor.split("_")
        booking_id = int(raw_id)
        if not 0 < booking_id < 2**31:  # ids are 32-bit integers on PostgreSQL
            raise ValueError(raw_id)
        return datetime.fromtimestamp(int(stamp), UTC), booking_id
    except (ValueError, OverflowError, OSError) as error:
        raise ServiceError("The page cursor is not valid.", "cursor", 422) from error


def _filtered(workspace: Workspace, filters: BookingFilters) -> Select:
    query = select(Booking).where(Booking.workspace_id == workspace.id)
    if filters.status == BookingState.CANCELLED:
        query = query.where(Booking.state == BookingState.CANCELLED)
    elif filters.status:
        query = query.where(Meeting.status == filters.status)
    if filters.since:
        query = query.where(Booking.start_at >= filters.since)
    if filters.until:
        query = query.where(Booking.start_at < filters.until)
    if filters.sync:
        of_state = [Operation.workspace_id == workspace.id, Operation.state == filters.sync]
        if filters.sync in OperationState.FINISHED and filters.sync_since:
            of_state.append(not_before(db.session.get_bind().dialect.name,
                                       Operation.finished_at, filters.sync_since))
        query = query.where(Booking.id.in_(select(Operation.booking_id).where(*of_state)))
    if filters.search:
        query = query.where(_matching(filters.search.strip()))
    return query


def _matching(term: str) -> ColumnElement[bool]:
    """Bookings whose title, customer, email or reference hold ``term``, through the index
    that serves it (``models.booking_search``): SQLite's FTS table, PostgreSQL's trigram
    index under ILIKE."""
    dialect = db.session.get_bind().dialect.name
    if len(term) >= booking_search.MIN_LENGTH and dialect == "sqlite":
        return booking_search.fts_match(Booking.id, term)
    if dialect == "postgresql":
        # Written into the SQL, not bound: psycopg prepares a statement run five times, and
        # PostgreSQL's generic plan for "ILIKE $1" cannot tell a rare term from a common one.
        pattern = literal("%" + re.sub(r"([/%_])", r"/\1", term) + "%", literal_execute=True)
        return booking_search.search_text(Booking.__table__).ilike(pattern, escape="/")
    return or_(*(getattr(Booking, column).icontains(term, autoescape=True)
                 for column in booking_search.SEARCHED))


def count_bookings(workspace: Workspace, filters: BookingFilters, cap: int = 10_000) -> int:
    """How many bookings the filters match, counting no further than ``cap`` (a page says
    "of 10,000+" rather than count a million rows)."""
    query = _filtered(workspace, filters).with_only_columns(Booking.id)
    if filters.status and filters.status != BookingState.CANCELLED:
        query = query.join(Meeting, Meeting.booking_id == Booking.id)
    return db.session.scalar(select(func.count()).select_from(query.limit(cap).subquery())) or 0


class TableMeeting(NamedTuple):
    status: str
    zoom_meeting_id: int | None
    join_url: str | None
    note: str | None
    last_error: str | None
    error_code: int | None


class TableBooking(NamedTuple):
    """What a row of the operators' table reads (``bookings/row_view.py``), as plain values:
    built from one Core query, cheap to hash, read like a Booking and its meeting."""

    id: int
    workspace_id: int
    title: str
    external_ref: str
    customer_name: str
    customer_email: str
    host_email: str | None
    start_at: datetime
    duration_minutes: int
    state: str
    meeting: TableMeeting


_BOOKING_COLUMNS = tuple(getattr(Booking, name) for name in TableBooking._fields[:-1])
_MEETING_COLUMNS = tuple(getattr(Meeting, name) for name in TableMeeting._fields)
_SPLIT = len(_BOOKING_COLUMNS)


def _table_booking(row: Sequence[Any]) -> TableBooking:
    return TableBooking(*row[:_SPLIT], TableMeeting(*row[_SPLIT:]))


def table_rows(workspace: Workspace, ids: list[int]) -> list[TableBooking]:
    """The workspace's bookings among ``ids`` as table rows, in id order."""
    if not ids:
        return []
    return [_table_booking(row) for row in db.session.execute(
        select(*_BOOKING_COLUMNS, *_MEETING_COLUMNS).join(Meeting, Meeting.booking_id == Booking.id)
        .where(Booking.workspace_id == workspace.id, Booking.id.in_(ids)).order_by(Booking.id))]


def list_bookings(workspace: Workspace, filters: BookingFilters, cursor: str | None = None,
                  limit: int = 50, *, before: str | None = None, descending: bool = False,
                  table_rows: bool = False) -> BookingPage:
    """Sorted by start time (``descending``: latest first), keyset-paginated: a deep page
    costs what the first one does. ``cursor`` asks for the page after a row, ``before`` for
    the page before one. ``table_rows``: TableBookings (what the bookings table shows, read
    without the ORM) instead of Bookings."""
    # One join serves both the status filter and loading each booking's meeting.
    query = _filtered(workspace, filters).join(Booking.meeting)
    query = (query.with_only_columns(*_BOOKING_COLUMNS, *_MEETING_COLUMNS) if table_rows
             else query.options(contains_eager(Booking.meeting)))
    backwards = before is not None and not cursor
    mark = _after(before if backwards else cursor)
    # Walking back through an ascending list is walking forward through a descending one.
    down = descending != backwards
    if mark:
        start, booking_id = mark
        # The leading bound lets the (workspace, start_at, id) index seek straight to the
        # page; the OR alone would scan from the workspace's first booking.
        if down:
            query = query.where(Booking.start_at <= start, or_(
                Booking.start_at < start,
                and_(Booking.start_at == start, Booking.id < booking_id)))
        else:
            query = query.where(Booking.start_at >= start, or_(
                Booking.start_at > start,
                and_(Booking.start_at == start, Booking.id > booking_id)))
    order = (Booking.start_at.desc(), Booking.id.desc()) if down else (Booking.start_at,
                                                                        Booking.id)
    found = db.session.execute(query.order_by(*order).limit(limit + 1))
    rows: list[Any] = ([_table_booking(row) for row in found] if table_rows
                       else list(found.scalars().unique()))
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
        return BookingPage(rows, _cursor(rows[-1]) if rows else None,
                           _cursor(rows[0]) if more and rows else None)
    return BookingPage(rows, _cursor(rows[-1]) if more and rows else None,
                       _cursor(rows[0]) if mark and rows else None)
