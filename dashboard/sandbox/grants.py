"""OAuth grants: one-time authorization codes, rotating refresh tokens, access tokens.

Only SHA-256 hashes of codes and tokens are stored. Every check-then-change happens in
one transaction (``BEGIN IMMEDIATE`` on SQLite) and the change itself is conditional on
the old value, so two concurrent uses of one code or refresh token have one winner.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import directory
from .storage import access_tokens, auth_codes, grant_revocations, grants

CODE_TTL_SECONDS = 300

# The refresh refusal for a grant that a newer authorization replaced (OAuth error 4741:
# "With multiple authorizations, the last token issued is considered valid, and the
# previous ones are invalidated"). Zoom's token errors are {"reason", "error"}; the error
# stays invalid_grant, the reason names the cause.
SUPERSEDED_REASON = (
    "The token has been revoked (4741): with multiple authorizations, the last token "
    "issued is considered valid, and the previous ones are invalidated."
)

# Scopes the sandbox app is configured with in its (imaginary) Marketplace listing:
# granular and classic meeting/user scopes, nothing for recordings, chat or media.
ALLOWED_SCOPES = frozenset(
    {
        "meeting:read:meeting",
        "meeting:read:list_meetings",
        "meeting:write:meeting",
        "meeting:update:meeting",
        "meeting:delete:meeting",
        "user:read:user",
        "meeting:read",
        "meeting:write",
        "user:read",
    }
)


class GrantError(Exception):
    """A token-endpoint failure, carrying Zoom's ``error`` and ``reason``."""

    def __init__(self, error: str, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


@dataclass(frozen=True)
class TokenPair:
    """What a successful code exchange or refresh hands out."""

    access_token: str
    refresh_token: str
    scopes: str


def digest(secret: str) -> str:
    """The stored form of a code or token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def s256(verifier: str) -> str:
    """PKCE S256 challenge of a verifier (RFC 7636)."""
    raw = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def issue_code(
    conn: Connection,
    *,
    client_id: str,
    user_id: str,
    redirect_uri: str,
    scopes: str,
    code_challenge: str | None,
    now_ts: float,
) -> str:
    """Store a one-time authorization code valid for five minutes; return it."""
    code = secrets.token_urlsafe(24)
    conn.execute(
        auth_codes.insert().values(
            code_hash=digest(code),
            client_id=client_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            code_challenge=code_challenge or None,
            expires_at=now_ts + CODE_TTL_SECONDS,
            used=False,
        )
    )
    return code


def _new_access_token(conn: Connection, grant_id: int, now_ts: float, ttl: int) -> str:
    """Issue an access token for a grant. Earlier ones stay valid until they expire."""
    access = secrets.token_urlsafe(48)
    conn.execute(
        access_tokens.insert().values(
            token_hash=digest(access), grant_id=grant_id, expires_at=now_ts + ttl
        )
    )
    return access


def claim_code(conn: Connection, *, code: str, client_id: str, now_ts: float) -> Any:
    """Burn a live authorization code and return its row; raise GrantError if not live.

    Run in its own transaction: once claimed the code stays used even when the later
    redirect or PKCE check fails.
    """
    bad_code = GrantError("invalid_grant", "Invalid authorization code")
    row = conn.execute(
        sa.select(auth_codes).where(
            auth_codes.c.code_hash == digest(code), auth_codes.c.client_id == client_id
        )
    ).first()
    if row is None or row.used or row.expires_at <= now_ts:
        raise bad_code
    claimed = conn.execute(
        auth_codes.update()
        .where(auth_codes.c.code_hash == row.code_hash, auth_codes.c.used.is_(False))
        .values(used=True)
    ).rowcount
    if claimed != 1:
        raise bad_code
    return row


def grant_for_code(
    conn: Connection,
    code_row: Any,
    *,
    redirect_uri: str,
    code_verifier: str,
    now_ts: float,
    access_ttl: int,
    refresh_ttl: int,
) -> TokenPair:
    """Check redirect URI and PKCE for a claimed code, then create the grant and tokens."""
    if redirect_uri != code_row.redirect_uri:
        raise GrantError("invalid_grant", "Redirect URI mismatch.")
    challenge = code_row.code_challenge
    if challenge and (not code_verifier or s256(code_verifier) != challenge):
        raise GrantError("invalid_grant", "Invalid code_verifier")
    user = directory.get_user(conn, code_row.user_id)
    if user is None:
        raise GrantError("invalid_grant", "Invalid authorization code")
    refresh_token = secrets.token_urlsafe(48)
    grant_id = conn.execute(
        grants.insert().values(
            client_id=code_row.client_id,
            user_id=code_row.user_id,
            account_id=user["account_id"],
            scopes=code_row.scopes,
            refresh_hash=digest(refresh_token),
            refresh_expires_at=now_ts + refresh_ttl,
            created_at=now_ts,
        )
    ).inserted_primary_key[0]
    _supersede(
        conn, user_id=code_row.user_id, client_id=code_row.client_id, keep=grant_id, now_ts=now_ts
    )
    access = _new_access_token(conn, grant_id, now_ts, access_ttl)
    return TokenPair(access, refresh_token, code_row.scopes)


def _end_grants(conn: Connection, query: Any, reason: str, now_ts: float) -> int:
    """Revoke the live grants a query selects, remembering why; return how many."""
    ids = [
        row.id
        for row in conn.execute(sa.select(grants.c.id).where(query, grants.c.revoked_at.is_(None)))
    ]
    for grant_id in ids:
        conn.execute(grants.update().where(grants.c.id == grant_id).values(revoked_at=now_ts))
        conn.execute(grant_revocations.delete().where(grant_revocations.c.grant_id == grant_id))
        conn.execute(grant_revocations.insert().values(grant_id=grant_id, reason=reason))
    return len(ids)


def _supersede(conn: Connection, *, user_id: str, client_id: str, keep: int, now_ts: float) -> int:
    """A new grant kills every earlier grant of the same user and app (4741)."""
    query = sa.and_(
        grants.c.user_id == user_id, grants.c.client_id == client_id, grants.c.id != keep
    )
    return _end_grants(conn, query, "superseded", now_ts)


def revocation_reason(conn: Connection, grant_id: int) -> str | None:
    """Why a revoked grant was revoked ("revoked", "removed", "superseded"), or None."""
    return conn.execute(
        sa.select(grant_revocations.c.reason).where(grant_revocations.c.grant_id == grant_id)
    ).scalar()


def refresh(
    conn: Connection,
    *,
    refresh_token: str,
    client_id: str,
    now_ts: float,
    access_ttl: int,
    refresh_ttl: int,
) -> TokenPair:
    """Rotate a refresh token: the old one dies at once. Raise GrantError if it is dead."""
    dead = GrantError("invalid_grant", "Invalid Token!")
    old_hash = digest(refresh_token)
    row = conn.execute(
        sa.select(grants).where(grants.c.refresh_hash == old_hash, grants.c.client_id == client_id)
    ).first()
    if row is not None and row.revoked_at is not None:
        if revocation_reason(conn, row.id) == "superseded":
            raise GrantError("invalid_grant", SUPERSEDED_REASON)
        raise dead
    if row is None or row.refresh_expires_at <= now_ts:
        raise dead
    new_refresh = secrets.token_urlsafe(48)
    # Conditional on the old hash, so of two concurrent refreshes only one can rotate even
    # without SQLite's serialisation; the loser raises and its transaction rolls back.
    rotated = conn.execute(
        grants.update()
        .where(grants.c.id == row.id, grants.c.refresh_hash == old_hash)
        .values(refresh_hash=digest(new_refresh), refresh_expires_at=now_ts + refresh_ttl)
    ).rowcount
    if rotated != 1:
        raise dead
    access = _new_access_token(conn, row.id, now_ts, access_ttl)
    return TokenPair(access, new_refresh, row.scopes)


@dataclass(frozen=True)
class RevokeTarget:
    """What a token given to /oauth/revoke belongs to.

    ``kind``: "unknown" (never issued, or a rotated-out refresh token), "dead" (its grant
    is already revoked or past its lifetime), "expired_access" (an access token past its
    hour on a live grant), "live" (a working access or refresh token).
    """

    kind: str
    grant: dict[str, Any] | None = None


def revoke_target(conn: Connection, *, token: str, client_id: str, now_ts: float) -> RevokeTarget:
    """Classify a token for /oauth/revoke (see ``RevokeTarget``)."""
    token_hash = digest(token)
    access = conn.execute(
        sa.select(access_tokens).where(access_tokens.c.token_hash == token_hash)
    ).first()
    if access is not None:
        query = sa.select(grants).where(grants.c.id == access.grant_id)
    else:
        query = sa.select(grants).where(grants.c.refresh_hash == token_hash)
    row = conn.execute(query.where(grants.c.client_id == client_id)).first()
    if row is None:
        return RevokeTarget("unknown")
    grant = dict(row._mapping)
    if row.revoked_at is not None or row.refresh_expires_at <= now_ts:
        return RevokeTarget("dead", grant)
    if access is not None and access.expires_at <= now_ts:
        return RevokeTarget("expired_access", grant)
    return RevokeTarget("live", grant)


def revoke_user(
    conn: Connection, *, user_id: str, client_id: str, now_ts: float, reason: str = "removed"
) -> int:
    """Revoke every live grant a user gave a client (app removed); return how many."""
    query = sa.and_(grants.c.user_id == user_id, grants.c.client_id == client_id)
    return _end_grants(conn, query, reason, now_ts)


def expire_access_tokens(conn: Connection, *, user_id: str, client_id: str, now_ts: float) -> int:
    """End the hour of every live access token a user's grants hold, now (their refresh
    tokens still work); return how many."""
    grant_ids = sa.select(grants.c.id).where(
        grants.c.user_id == user_id, grants.c.client_id == client_id
    )
    return conn.execute(
        access_tokens.update()
        .where(access_tokens.c.grant_id.in_(grant_ids), access_tokens.c.expires_at > now_ts)
        .values(expires_at=now_ts)
    ).rowcount


def authenticate(conn: Connection, access_token: str, now_ts: float) -> dict[str, Any] | str:
    """The grant behind a live access token, or "unknown" / "expired"."""
    row = conn.execute(
        sa.select(grants, access_tokens.c.expires_at.label("access_expires_at"))
        .join(access_tokens, access_tokens.c.grant_id == grants.c.id)
        .where(access_tokens.c.token_hash == digest(access_token))
    ).first()
    if row is None:
        return "unknown"
    if row.revoked_at is not None or row.access_expires_at <= now_ts:
        return "expired"
    return dict(row._mapping)


def live_grants(
    conn: Connection, now_ts: float, user_id: str | None = None
) -> list[dict[str, Any]]:
    """Grants neither revoked nor past their refresh-token lifetime, newest first."""
    query = sa.select(grants).where(
        grants.c.revoked_at.is_(None), grants.c.refresh_expires_at > now_ts
    )
    if user_id is not None:
        query = query.where(grants.c.user_id == user_id)
    return [dict(r._mapping) for r in conn.execute(query.order_by(grants.c.id.desc()))]


def all_grants(conn: Connection) -> list[dict[str, Any]]:
    """Every grant, newest first (for the console page)."""
    return [dict(r._mapping) for r in conn.execute(sa.select(grants).order_by(grants.c.id.desc()))]
