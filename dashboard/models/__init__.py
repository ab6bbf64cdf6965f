"""SQLAlchemy models; importing this package registers every table on ``db.metadata``."""

from dashboard.models.accounts import Membership, Permission, Role, User, Workspace
from dashboard.models.api_key import ApiKey
from dashboard.models.audit import AuditEvent
from dashboard.models.booking import Booking, BookingState, Meeting, MeetingStatus
from dashboard.models.booking_event import (
    DeliveryAttempt,
    DeliveryState,
    EndpointState,
    Event,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)
from dashboard.models.bulk_job import BulkJob, BulkJobKind
from dashboard.models.drift import (
    DriftKind,
    DriftResolution,
    DriftSource,
    MeetingDrift,
    MeetingSend,
)
from dashboard.models.invitation import Invitation
from dashboard.models.login_throttle import LoginFailure
from dashboard.models.mail import MailKind, MailMessage, MailState, WorkspaceMailSettings
from dashboard.models.meeting_defaults import LAKESIS_MEETING_DEFAULTS, MeetingDefaults
from dashboard.models.operation import Operation, OperationKind, OperationState
from dashboard.models.reconcile_run import ReconcileRun, RunState
from dashboard.models.user_session import UserSession
from dashboard.models.webhook_event import WebhookEvent
from dashboard.models.webhook_tally import WebhookTally
from dashboard.models.worker_heartbeat import WorkerHeartbeat
from dashboard.models.workspace_change import WorkspaceChange
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
    "DeliveryAttempt",
    "DeliveryState",
    "EndpointState",
    "Event",
    "EventType",
    "DriftKind",
    "DriftResolution",
    "DriftSource",
    "Invitation",
    "LoginFailure",
    "MailKind",
    "MailMessage",
    "MailState",
    "Meeting",
    "MeetingDefaults",
    "MeetingDrift",
    "MeetingSend",
    "MeetingStatus",
    "Membership",
    "OAuthState",
    "Operation",
    "OperationKind",
    "OperationState",
    "Permission",
    "ReconcileRun",
    "Role",
    "RunState",
    "User",
    "UserSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookTally",
    "WorkerHeartbeat",
    "WorkspaceChange",
    "Workspace",
    "WorkspaceMailSettings",
    "ZoomConnection",
]
