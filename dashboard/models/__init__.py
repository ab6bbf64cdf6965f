"""SQLAlchemy models; importing this package registers every table on ``db.metadata``."""

from dashboard.models.accounts import Membership, Permission, Role, User, Workspace
from dashboard.models.api_key import ApiKey
from dashboard.models.audit import AuditEvent
from dashboard.models.booking import Booking, BookingState, Meeting, MeetingStatus
from dashboard.models.bulk_job import BulkJob, BulkJobKind
from dashboard.models.invitation import Invitation
from dashboard.models.login_throttle import LoginFailure
from dashboard.models.meeting_defaults import LAKESIS_MEETING_DEFAULTS, MeetingDefaults
from dashboard.models.operation import Operation, OperationKind, OperationState
from dashboard.models.user_session import UserSession
from dashboard.models.webhook_event import WebhookEvent
from dashboard.models.webhook_tally import WebhookTally
from dashboard.models.worker_heartbeat import WorkerHeartbeat
from dashboard.models.zoom_connection import ConnectionStatus, OAuthState, ZoomConnection

__all__ = [
    "LAKESIS_MEETING_DEFAULTS",
    "ApiKey",
    "AuditEvent",
    "Booking",
    "BookingState",
    "BulkJob",
    "BulkJobKind",
    "ConnectionStatus",
    "Invitation",
    "LoginFailure",
    "Meeting",
    "MeetingDefaults",
    "MeetingStatus",
    "Membership",
    "OAuthState",
    "Operation",
    "OperationKind",
    "OperationState",
    "Permission",
    "Role",
    "User",
    "UserSession",
    "WebhookEvent",
    "WebhookTally",
    "WorkerHeartbeat",
    "Workspace",
    "ZoomConnection",
]
