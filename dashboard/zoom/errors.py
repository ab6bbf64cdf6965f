"""What Zoom's failures mean, as exceptions the rest of the product can act on.

Every failure of the Zoom boundary is a :class:`ZoomError`. Callers branch on the
subclass (refresh and retry, park until a time, ask for re-authorization, give up),
never on Zoom's numeric codes: those stay in this module.

Messages come from Zoom's response bodies, so they are scrubbed before they are kept:
the secrets used for the call (tokens, client secret) and anything that looks like a
bearer token or a host ``start_url`` are replaced. ``str()``/``repr()`` of an error are
therefore safe to log, store as ``last_error`` and show to an operator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from .meetings import parse_time

if TYPE_CHECKING:
    from requests import Response

# JWT-shaped strings (Zoom's access and refresh tokens) and host links carrying a ZAK.
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){1,2}")
_START_URL_RE = re.compile(r"https?://\S*[?&]zak=\S*", re.IGNORECASE)
_MAX_MESSAGE = 500


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` without the given secrets, token-like strings or start URLs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _START_URL_RE.sub("[redacted-url]", text)
    text = _JWT_RE.sub("[redacted-token]", text)
    return text[:_MAX_MESSAGE]


class ZoomError(Exception):
    """Base of every Zoom failure: HTTP ``status``, Zoom ``code`` and a safe ``message``."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | str | None = None,
        secrets: Iterable[str] = (),
        tracking_id: str | None = None,
    ) -> None:
        self.message = scrub(str(message), secrets)
        self.status = status
        self.code = code
        #: Zoom's ``x-zm-trackingid`` of the failed answer: what Zoom support asks for
        self.tracking_id = tracking_id
        super().__init__(self.message)

    def __str__(self) -> str:
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.tracking_id:
            details.append(f"Zoom tracking id {self.tracking_id}")
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r})"
        )


class ZoomAuthError(ZoomError):
    """The OAuth token or revoke endpoint refused the request."""


class InvalidGrant(ZoomAuthError):
    """Terminal: the refresh token is dead (rotated, revoked, expired) or the code is bad.

    Retrying cannot help; the connection needs the user to authorize again.
    """


class InvalidClient(ZoomAuthError):
    """The app's client id or secret is wrong: a configuration problem, not the user's."""


class AccessTokenExpired(ZoomError):
    """The access token was refused (401, code 124): refresh once, then retry."""


class MissingScope(ZoomError):
    """The token lacks scopes the call needs (code 4711); ``scopes`` lists them."""

    def __init__(self, message: str, *, scopes: list[str], **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.scopes = scopes


class RateLimited(ZoomError):
    """HTTP 429.

    ``retry_after``: seconds from now, only when Zoom sent ``Retry-After``.
    ``daily``: the per-user daily create/update cap, not a per-second limit.
    ``resume_at``: when to try again, if known (from ``Retry-After``, or the next
    00:00 UTC for the daily cap); ``None`` means back off on your own schedule.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None,
        daily: bool,
        resume_at: datetime | None,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self.daily = daily
        self.resume_at = resume_at


class MeetingNotFound(ZoomError):
    """The meeting does not exist or has expired (3001 / 404). Success for a cancel."""


class MeetingInProgress(ZoomError):
    """The meeting is running and cannot be deleted now (3002)."""


class NotMeetingHost(ZoomError):
    """The connected user is not the meeting's host (3003)."""


class UserNotFound(ZoomError):
    """The Zoom user does not exist (1001), e.g. a bad ``schedule_for``."""


class NoSchedulingPrivilege(ZoomError):
    """The connected user may not schedule for the meeting's host (3000 "You cannot
    schedule a meeting for ..."): a Zoom admin must grant scheduling privilege."""


class ZoomValidationError(ZoomError):
    """Zoom rejected the request (code 300 or another 4xx); ``errors`` has field details."""

    def __init__(self, message: str, *, errors: list[dict], **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.errors = errors

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, errors={self.errors!r})"


class ZoomUnavailable(ZoomError):
    """Zoom could not answer properly: 5xx, connection failure, or a malformed body.

    ``maybe_sent`` is True when Zoom may have acted on the request anyway (it was sent
    and the answer was lost or broken): a create that fails this way must be looked up
    by its marker before it is sent again.
    """

    def __init__(self, message: str, *, maybe_sent: bool = True, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.maybe_sent = maybe_sent


class ZoomTimeout(ZoomUnavailable):
    """No answer in time: ``maybe_sent`` is True for a read timeout, False for connect."""


class CreateOutcomeUnknown(ZoomUnavailable):
    """A create left for Zoom and no usable answer came back (timeout, 5xx, a broken body,
    a dropped connection): the meeting may exist, or appear later. Zoom has been seen
    committing a create 20 s after the request timed out, so the next attempt must not
    look (or create) before Zoom could have finished."""

    @classmethod
    def after(cls, error: ZoomUnavailable) -> CreateOutcomeUnknown:
        """The same failure, as the unknown outcome of a create (its message unchanged)."""
        return cls(error.message, status=error.status, code=error.code,
                   tracking_id=error.tracking_id)


# --- Reading Zoom's error responses -------------------------------------------------

_API_CODES: dict[int, type[ZoomError]] = {
    124: AccessTokenExpired,
    1001: UserNotFound,
    3001: MeetingNotFound,
    3002: MeetingInProgress,
    3003: NotMeetingHost,
}
_SCOPES_RE = re.compile(r"scopes\s*:?\s*\[([^\]]*)\]", re.IGNORECASE)


def api_error(response: Response, *, now: datetime, secrets: Iterable[str] = ()) -> ZoomError:
    """Classify a non-2xx answer from the REST API (``/v2/...``)."""
    status = response.status_code
    body = json_object(response) or {}
    code = body.get("code")
    message = str(body.get("message") or response.reason or f"Zoom API returned HTTP {status}")
    common: dict[str, Any] = {"status": status, "code": code, "secrets": tuple(secrets),
                              "tracking_id": tracking_id_of(response)}
    if status == 429:
        return _rate_limited(response, message, now=now, common=common)
    kind = _api_kind(status, _as_int(code), message)
    if kind is MissingScope:
        return MissingScope(message, scopes=_missing_scopes(message), **common)
    if kind is ZoomValidationError:
        errors = body.get("errors")
        details = [_scrub_dict(e, common["secrets"]) for e in errors or [] if isinstance(e, dict)]
        return ZoomValidationError(message, errors=details, **common)
    return kind(message, **common)


def _api_kind(status: int, code: int | None, message: str) -> type[ZoomError]:
    if status >= 500:
        return ZoomUnavailable
    if code == 4711 or "does not contain scopes" in message:
        return MissingScope
    if code == 3000 and "schedule" in message.lower():
        return NoSchedulingPrivilege
    if code in _API_CODES:
        return _API_CODES[code]
    if status == 401:
        # Zoom uses 401 for any unusable access token; refreshing once is the remedy.
        return AccessTokenExpired
    if status == 404:
        return MeetingNotFound
    return ZoomValidationError if 400 <= status < 500 else ZoomError


# Refusals that are about the app itself (its credentials, our own request), not the
# user's grant: reconnecting would not help, so they are not InvalidGrant.
_APP_REFUSALS = {"invalid_client": InvalidClient, "unsupported_grant_type": ZoomAuthError}


def token_error(response: Response, *, now: datetime, secrets: Iterable[str] = ()) -> ZoomError:
    """Classify a failed answer from the OAuth token or revoke endpoint.

    Zoom's bodies vary (see zoom/README.md): ``{"reason": "Invalid Token!"}`` with
    ``invalid_grant``, ``invalid_request`` or no ``error`` at all, on HTTP 400 or 401, and
    numbered reasons (4733 code expired, 4734 bad code, 4735 user gone, 4738 disabled by an
    admin, 4741 revoked by a newer grant). Any refusal other than a transient 5xx or 429
    means the grant (or the code) is dead, unless it is about the app's own credentials
    or request.
    """
    status = response.status_code
    body = json_object(response) or {}
    error = str(body.get("error") or "")
    reason = str(body.get("reason") or body.get("error_description") or body.get("message") or "")
    message = reason or error or f"Zoom token endpoint returned HTTP {status}"
    code = body.get("code") if _as_int(body.get("code")) else None
    common: dict[str, Any] = {"status": status, "code": code or error or None,
                              "secrets": tuple(secrets), "tracking_id": tracking_id_of(response)}
    if status >= 500:
        return ZoomUnavailable(message, **common)
    if status == 429:
        return _rate_limited(response, message, now=now, common=common)
    if "client_id or client_secret" in reason.lower():
        return InvalidClient(message, **common)
    return _APP_REFUSALS.get(error, InvalidGrant)(message, **common)


def next_utc_midnight(now: datetime) -> datetime:
    """The next 00:00 UTC strictly after ``now``: when Zoom's daily caps reset."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def parse_retry_after(value: str | None, now: datetime) -> tuple[float | None, datetime | None]:
    """Read ``Retry-After`` as seconds, an ISO date-time (Zoom's daily cap) or an HTTP date.

    Returns ``(seconds_from_now, resume_at)``, or ``(None, None)`` when absent or unreadable.
    """
    if not value or not value.strip():
        return None, None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            return None, None
        seconds = max(0.0, seconds)
        return seconds, now + timedelta(seconds=seconds)
    when = _parse_datetime(value)
    if when is None:
        return None, None
    return max(0.0, (when - now).total_seconds()), when


def _parse_datetime(value: str) -> datetime | None:
    """Zoom's ISO time (``meetings.parse_time``: zone-less is UTC), else an HTTP date."""
    when = parse_time(value)
    if when is not None:
        return when
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _rate_limited(
    response: Response, message: str, *, now: datetime, common: dict[str, Any]
) -> RateLimited:
    retry_after, resume_at = parse_retry_after(response.headers.get("Retry-After"), now)
    if retry_after is None:  # per-second 429s say when the window opens, in epoch seconds
        retry_after, resume_at = _reset_at(response.headers.get("X-RateLimit-Reset"), now)
    limit_type = response.headers.get("X-RateLimit-Type", "").strip().lower()
    daily = limit_type == "daily-limit" or "daily rate limit" in message.lower()
    if daily and resume_at is None:
        resume_at = next_utc_midnight(now)
    return RateLimited(message, retry_after=retry_after, daily=daily, resume_at=resume_at, **common)


def _reset_at(value: str | None, now: datetime) -> tuple[float | None, datetime | None]:
    """``X-RateLimit-Reset`` (epoch seconds) as (seconds from now, when), or (None, None)."""
    try:
        epoch = float(value or "")
    except ValueError:
        return None, None
    if not math.isfinite(epoch) or not 0 < epoch < 2**33:
        return None, None
    when = datetime.fromtimestamp(epoch, UTC)
    return max(0.0, (when - now).total_seconds()), when


def tracking_id_of(response: Response) -> str | None:
    """Zoom's ``x-zm-trackingid`` header (printable, bounded), if the answer has one."""
    value = (response.headers.get("x-zm-trackingid") or "").strip()
    return value[:80] if value and value.isprintable() else None


def json_object(response: Response) -> dict | None:
    """The response body if it is a JSON object, else None (HTML error pages, lists...)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _as_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _missing_scopes(message: str) -> list[str]:
    match = _SCOPES_RE.search(message)
    if not match:
        return []
    return [s for s in re.split(r"[\s,]+", match.group(1)) if s]


def _scrub_dict(item: dict, secrets: Iterable[str]) -> dict:
    return {k: scrub(v, secrets) if isinstance(v, str) else v for k, v in item.items()}
