"""The seeded sandbox Zoom users (the people one can "sign in to Zoom" as)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .storage import users

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


def seed(conn: Connection) -> None:
    """Insert the seeded users that are missing (idempotent, safe for several processes)."""
    existing = set(conn.execute(sa.select(users.c.id)).scalars())
    for user in SEED_USERS:
        if user["id"] not in existing:
            conn.execute(users.insert().values(**user))


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
