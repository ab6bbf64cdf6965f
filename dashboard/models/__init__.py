"""SQLAlchemy models; importing this package registers every table on ``db.metadata``."""

from dashboard.models.accounts import Membership, Permission, Role, User, Workspace
from dashboard.models.api_key import ApiKey
from dashboard.models.audit import AuditEvent
from dashboard.models.login_throttle import LoginFailure

__all__ = [
    "ApiKey",
    "AuditEvent",
    "LoginFailure",
    "Membership",
    "Permission",
    "Role",
    "User",
    "Workspace",
]
