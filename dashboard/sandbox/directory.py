"""The seeded sandbox Zoom users (the people one can "sign in to Zoom" as)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .storage import get_state, scheduling, set_state, users

CLINIC_ACCOUNT = "sbx-acct-clinic"
OTHER_ACCOUNT = "sbx-acct-other"

# Stable ids, so tests and demos can name them.
SEED_USERS: tuple[dict[str, Any], ...] = (
    {
        "id": "sbx-user-dr-ada",
        "account_id": CLINIC_ACCOUNT,
        "email": "dr.ada@clinic.zoom.test",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "type": 2,
        "role_name": "Owner",
        "timezone": "Europe/Lisbon",
        "language": "en-US",
    },
    {
        "id": "sbx-user-front-desk",
        "account_id": CLINIC_ACCOUNT,
        "email": "front.desk@clinic.zoom.test",
        "first_name": "Frankie",
        "last_name": "Desk",
        "type": 1,
        "role_name": "Member",
        "timezone": "Europe/Lisbon",
        "language": "en-US",
    },
    {
        "id": "sbx-user-other-host",
        "account_id": OTHER_ACCOUNT,
        "email": "host@other.zoom.test",
        "first_name": "Olu",
        "last_name": "Host",
        "type": 2,
        "role_name": "Owner",
        "timezone": "America/New_York",
        "language": "en-US",
    },
)


# Scheduling privileges of the demo clinic (scheduler -> host): the front desk assigned
# the owner as its scheduler (Zoom: Settings > Meeting > Schedule privilege), so Lakesis
# connected as dr.ada may book meetings hosted by the front desk. Nobody else may
# schedule for anyone; privileges never cross accounts. Change them on the console.
SEED_SCHEDULING: tuple[tuple[str, str], ...] = (("sbx-user-dr-ada", "sbx-user-front-desk"),)
_SCHEDULING_SEEDED = "scheduling_seeded"


def seed(conn: Connection) -> None:
    """Insert the seeded users that are missing (idempotent, safe for several processes),
    and the demo scheduling privileges once (a tester's later changes are kept)."""
    existing = set(conn.execute(sa.select(users.c.id)).scalars())
    for user in SEED_USERS:
        if user["id"] not in existing:
            conn.execute(users.insert().values(**user))
    seed_scheduling(conn)


def seed_scheduling(conn: Connection) -> None:
    """Give the seeded users their demo scheduling privileges, unless already done."""
    if get_state(conn, _SCHEDULING_SEEDED):
        return
    for scheduler_id, host_id in SEED_SCHEDULING:
        allow_scheduling(conn, scheduler_id, host_id)
    set_state(conn, _SCHEDULING_SEEDED, "1")


def may_schedule_for(conn: Connection, scheduler_id: str, host_id: str) -> bool:
    """Whether ``scheduler_id`` holds scheduling privilege for ``host_id`` (or is them)."""
    if scheduler_id == host_id:
        return True
    row = conn.execute(
        sa.select(scheduling.c.host_id).where(
            scheduling.c.scheduler_id == scheduler_id, scheduling.c.host_id == host_id
        )
    ).first()
    return row is not None


def allow_scheduling(conn: Connection, scheduler_id: str, host_id: str) -> None:
    """Let ``scheduler_id`` schedule for ``host_id`` (idempotent)."""
    if not may_schedule_for(conn, scheduler_id, host_id):
        conn.execute(scheduling.insert().values(scheduler_id=scheduler_id, host_id=host_id))


def forbid_scheduling(conn: Connection, scheduler_id: str, host_id: str) -> None:
    """Take the privilege back."""
    conn.execute(
        scheduling.delete().where(
            scheduling.c.scheduler_id == scheduler_id, scheduling.c.host_id == host_id
        )
    )


def scheduling_privileges(conn: Connection) -> list[tuple[str, str]]:
    """Every (scheduler id, host id) pair, sorted."""
    rows = conn.execute(
        sa.select(scheduling.c.scheduler_id, scheduling.c.host_id).order_by(
            scheduling.c.scheduler_id, scheduling.c.host_id
        )
    )
    return [(row.scheduler_id, row.host_id) for row in rows]


def all_users(conn: Connection) -> list[dict[str, Any]]:
    """Every sandbox user, ordered by account then email."""
    rows = conn.execute(sa.select(users).order_by(users.c.account_id, users.c.email))
    return [dict(row._mapping) for row in rows]


def get_user(conn: Connection, user_id: str) -> dict[str, Any] | None:
    """A user by id, or None."""
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return dict(row._mapping) if row else None


def find_user(conn: Connection, id_or_email: str) -> dict[str, Any] | None:
    """A user by id or email (Zoom accepts either in ``userId`` and ``schedule_for``)."""
    row = conn.execute(
        sa.select(users).where(
            sa.or_(users.c.id == id_or_email, sa.func.lower(users.c.email) == id_or_email.lower())
        )
    ).first()
    return dict(row._mapping) if row else None


def as_zoom_user(user: dict[str, Any]) -> dict[str, Any]:
    """The ``GET /v2/users/me`` representation."""
    return {
        "id": user["id"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "display_name": f"{user['first_name']} {user['last_name']}",
        "email": user["email"],
        "type": user["type"],
        "role_name": user["role_name"],
        "pmi": _pmi(user["id"]),
        "use_pmi": False,
        "timezone": user["timezone"],
        "verified": 1,
        "dept": "",
        "account_id": user["account_id"],
        "status": "active",
        "language": user["language"],
    }


def _pmi(user_id: str) -> int:
    """A stable 10-digit personal meeting id derived from the user id."""
    checksum = sum(ord(ch) * (i + 1) for i, ch in enumerate(user_id))
    return 1_000_000_000 + checksum * 7919 % 8_999_999_999
