"""Per-workspace API keys: made once, shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ApiKey, Workspace
from dashboard.orm import utcnow
from dashboard.services import NotFound, ServiceError
from dashboard.services.audit import Actor, record
from dashboard.services.unit_of_work import transaction

KEY_PREFIX = "lks_"


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the whole key: shown to the person once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(workspace: Workspace, actor: Actor, name: str, created_by_id: int | None) -> IssuedKey:
    """Make a key; the caller shows ``secret`` once."""
    name = name.strip()
    if not name:
        raise ServiceError("Give the key a name, e.g. the system that will use it.", "name")
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(workspace_id=workspace.id, name=name, prefix=prefix, key_hash=_hash(secret),
                 created_by_id=created_by_id)
    with transaction():
        db.session.add(key)
        db.session.flush()
        record(workspace.id, actor, "api_key.created", ("api_key", key.id, f"{name} ({prefix})"))
    return IssuedKey(key, secret)


def list_keys(workspace: Workspace) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.workspace_id == workspace.id).order_by(
        ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc())
    return list(db.session.scalars(query))


def revoke(workspace: Workspace, actor: Actor, key_id: int) -> ApiKey:
    key = db.session.get(ApiKey, key_id)
    if key is None or key.workspace_id != workspace.id:
        raise NotFound("API key")
    if key.revoked_at is None:
        with transaction():
            key.revoked_at = utcnow()
            record(workspace.id, actor, "api_key.revoked",
                   ("api_key", key.id, f"{key.name} ({key.prefix})"))
    return key


def authenticate(secret: str) -> ApiKey | None:
    """The active key for a presented secret, with its last use noted; None if unknown."""
    if not secret.startswith(KEY_PREFIX):
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(secret)))
    if key is None or key.revoked_at is not None:
        return None
    now = utcnow()
    # Writing on every call would serialize the API on one row; a minute's precision will do.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        with transaction():
            key.last_used_at = now
    return key


def workspace_of(key: ApiKey) -> Workspace:
    """The workspace a key calls for."""
    return db.session.get(Workspace, key.workspace_id)
