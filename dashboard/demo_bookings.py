"""About 200 believable bookings for the demo workspace, in every meeting state.

With a ``make_meeting`` (``flask seed-demo`` in sandbox mode passes ``demo_zoom``'s), every
meeting that exists in Zoom is made in the sandbox's store, so every action on it behaves
as for real (a Re-sync on a healthy row stays green, the join link is the sandbox's).
Without one, the meetings' Zoom ids and links are made up. The failed, dead and parked ones
get the operations that would have led there, so the bookings and sync health pages look
like a real week. Idempotent: bookings are keyed ``demo-0001``..``demo-0200``; a second run
adds nothing.

Not a use case (so not in ``services/``): only ``flask seed-demo`` calls it.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.models import Booking, Meeting, Operation, Workspace
from dashboard.orm import utcnow
from dashboard.zoom.errors import next_utc_midnight
from dashboard.zoom.meetings import read_meeting

#: makes a booking's meeting in Zoom (the sandbox) in a meeting status; returns Zoom's copy
MakeMeeting = Callable[[Booking, str], dict[str, Any]]

FIRST = ("Ana", "Bruno", "Carla", "Diogo", "Eva", "Filipe", "Grace", "Hugo", "Inês", "João",
         "Kofi", "Laura", "Miguel", "Nadia", "Omar", "Priya", "Rui", "Sofia", "Tomás", "Yara")
LAST = ("Silva", "Costa", "Okafor", "Ferreira", "Nguyen", "Martins", "Schmidt", "Pereira",
        "Haddad", "Lopes", "Kowalski", "Sousa", "Tanaka", "Almeida", "Brennan")
TITLES = ("Consultation with {name}", "Follow-up: {name}", "Initial assessment, {name}",
          "Physiotherapy review, {name}", "Nutrition check-in with {name}",
          "Test results call, {name}", "Therapy session, {name}")
HOSTS = (None, None, "dr.ada@clinic.zoom.test", "front.desk@clinic.zoom.test")
ZONES = ("Europe/Lisbon", "Europe/London", "Europe/Berlin", "America/New_York")
# (meeting status, booking state, how many): 200 in all.
PLAN = (("scheduled", "active", 112), ("ended", "active", 36), ("started", "active", 3),
        ("cancelled", "cancelled", 20), ("failed", "active", 8),
        ("waiting_for_connection", "active", 10), ("deleted_in_zoom", "active", 4),
        ("pending", "active", 7))
DEAD_ERROR = "Gave up after 8 attempts: Zoom is unavailable (HTTP 503)"
# Zoom's code with its words, as a real refusal leaves them: the pages explain the code.
REFUSALS = (("300", "Zoom refused: 300 Invalid meeting start time"),
            ("1001", "Zoom refused: 1001 User does not exist: locum@clinic.zoom.test"))


def _start(rng: random.Random, status: str, now: datetime) -> datetime:
    if status == "started":
        return (now - timedelta(minutes=rng.randint(5, 25))).replace(second=0, microsecond=0)
    if status == "ended":
        moment = now - timedelta(days=rng.randint(1, 21))
    else:
        moment = now + timedelta(days=rng.randint(0, 34))
    # Clinics book on the quarter hour, in working hours (UTC is close enough for a demo).
    moment = moment.replace(hour=rng.randint(8, 17), minute=rng.choice((0, 15, 30, 45)),
                            second=0, microsecond=0)
    if status != "ended" and moment < now + timedelta(hours=1):
        moment += timedelta(days=1)
    return moment


def _operations(rng: random.Random, booking: Booking, status: str, index: int,
                now: datetime) -> list[Operation]:
    """What the outbox would hold after this booking's story, oldest first."""
    meeting = booking.meeting

    def op(kind: str, state: str, **fields: object) -> Operation:
        fields.setdefault("created_at", booking.created_at)
        return Operation(workspace_id=booking.workspace_id, booking=booking, kind=kind,
                         state=state, requested_by="API key Lakesis workflow (demo)", **fields)

    created = op("create", "succeeded", attempts=1, finished_at=booking.created_at,
                 outcome=f"created Zoom meeting {meeting.zoom_meeting_id}")
    if status in ("scheduled", "ended", "started"):
        return [created]
    if status == "cancelled":
        return [op("cancel", "succeeded", attempts=1, finished_at=now,
                   outcome="deleted Zoom meeting")]
    if status == "deleted_in_zoom":
        return [created, op("resync", "succeeded", attempts=1, finished_at=now,
                            outcome="the meeting no longer exists in Zoom")]
    if status == "failed":
        if index % 2:
            meeting.last_error = DEAD_ERROR
            return [op("create", "dead", attempts=8, last_error=DEAD_ERROR[26:],
                       finished_at=now - timedelta(hours=rng.randint(1, 30)))]
        code, refusal = REFUSALS[index % 4 // 2]
        meeting.last_error, meeting.error_code = refusal, code
        return [op("create", "failed", attempts=1, last_error=refusal[14:], error_code=code,
                   finished_at=now - timedelta(hours=rng.randint(1, 30)))]
    if status == "waiting_for_connection":
        meeting.note = "Waiting for Zoom to be connected again; resumes by itself after."
        return [op("create", "waiting", last_error="Zoom is not connected for this workspace",
                   created_at=now - timedelta(hours=rng.randint(1, 20)))]
    # pending: most parked by Zoom's daily cap until midnight UTC, a few simply queued.
    resume = next_utc_midnight(now)
    if index % 3:
        meeting.note = (f"Zoom's daily limit of meeting changes was reached; resumes at "
                        f"{resume:%Y-%m-%d %H:%M} UTC.")
        return [op("create", "queued", next_attempt_at=resume,
                   created_at=now - timedelta(hours=rng.randint(1, 6)),
                   last_error="Zoom's daily limit of meeting create/update requests reached")]
    return [op("create", "queued", next_attempt_at=now,
               created_at=now - timedelta(minutes=rng.randint(1, 5)))]


def _meeting(rng: random.Random, booking: Booking, status: str, zoom_id: int,
             now: datetime, make_meeting: MakeMeeting | None = None) -> Meeting:
    """The booking's meeting row as Zoom work would have left it in ``status``."""
    has_meeting = status in ("scheduled", "ended", "started", "deleted_in_zoom")
    live = has_meeting and status != "deleted_in_zoom"  # a Zoom meeting exists now
    if live and make_meeting is not None:
        made = read_meeting(make_meeting(booking, status))
        return Meeting(
            workspace_id=booking.workspace_id, status=status, zoom_meeting_id=made.id,
            zoom_uuid=made.uuid, join_url=made.join_url,
            start_url_enc=token_cipher.encrypt(made.start_url) if made.start_url else None,
            synced_start_at=made.start_at, synced_duration=made.duration_minutes,
            last_synced_at=now - timedelta(minutes=rng.randint(1, 600)))
    return Meeting(
        workspace_id=booking.workspace_id, status=status,
        zoom_meeting_id=zoom_id if has_meeting else None,
        join_url=f"https://zoom.us/j/{zoom_id}" if live else None,
        synced_start_at=booking.start_at if live else None,
        synced_duration=booking.duration_minutes if live else None,
        last_synced_at=now - timedelta(minutes=rng.randint(1, 600)) if has_meeting else None,
        note="Deleted in Zoom: Retry creates a new meeting."
        if status == "deleted_in_zoom" else None)


def seed(workspace: Workspace, count: int = 200, now: datetime | None = None,
         make_meeting: MakeMeeting | None = None) -> Counter[str]:
    """Add the demo bookings ``workspace`` does not have yet; returns how many of each
    meeting status were added (empty on a second run). The caller commits.

    With ``make_meeting`` the workspace is connected to Zoom, so no booking waits for a
    connection: those become scheduled ones."""
    now = now or utcnow()
    plan = PLAN if make_meeting is None else tuple(
        ("scheduled", state, n) if status == "waiting_for_connection" else (status, state, n)
        for status, state, n in PLAN)
    refs = [f"demo-{n:04d}" for n in range(1, count + 1)]
    existing = set(db.session.scalars(select(Booking.external_ref).where(
        Booking.workspace_id == workspace.id, Booking.external_ref.in_(refs))))
    rng = random.Random(20_260_101)  # noqa: S311 - the same demo every time, not security
    statuses = [status for status, _, n in plan for _ in range(n)]
    rng.shuffle(statuses)
    states = {status: state for status, state, _ in plan}
    added: Counter[str] = Counter()
    for n, ref in enumerate(refs):
        status = statuses[n % len(statuses)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        start, zone, host = _start(rng, status, now), rng.choice(ZONES), rng.choice(HOSTS)
        title = rng.choice(TITLES).format(name=f"{first} {last}")
        if ref in existing:
            continue  # the draws above still happen, so every other booking stays the same
        zoom_id = 81_000_000_000 + n * 7_919 + rng.randint(0, 999)
        if status in ("pending", "waiting_for_connection"):
            host = None  # the sandbox knows these hosts; no surprise refusals on connect
        booking = Booking(
            public_id=uuid.uuid4().hex,  # now, not at flush: the Zoom meeting carries it
            workspace_id=workspace.id, external_ref=ref, kind=rng.choice(("booking",
                                                                          "consultation")),
            title=title, start_at=start, duration_minutes=rng.choice((20, 30, 30, 45, 60)),
            timezone=zone, host_email=host, customer_name=f"{first} {last}",
            customer_email=f"{first.lower()}.{last.lower()}@example.test".replace("ê", "e"),
            state=states[status], fingerprint=f"demo{n:060d}",
            created_at=min(start, now) - timedelta(days=rng.randint(1, 10)))
        booking.meeting = _meeting(rng, booking, status, zoom_id, now, make_meeting)
        db.session.add(booking)
        db.session.add_all(_operations(rng, booking, status, n, now))
        added[status] += 1
    return added
