"""The only code in the product that talks to Zoom: OAuth and the Meetings API.

A pure library: no Flask, no database, no request context. The app builds one
:class:`ZoomClient` from its configuration (real Zoom or the sandbox, through
:class:`ZoomEndpoints`) and passes tokens in explicitly; storing and refreshing them
under a lock is the caller's job.

Why the token endpoint is called with plain ``requests`` and not Authlib's
``OAuth2Session.fetch_token``/``refresh_token`` (checked in Authlib 1.x's source):
``OAuth2Client.parse_response_token`` only raises when the JSON body has an ``error``
key, so Zoom's ``{"reason": "Invalid Token!"}`` without one would come back as a
"token"; and its ``OAuthError`` keeps ``error``/``error_description`` but drops the
HTTP status and Zoom's ``reason``, so "Invalid authorization code" under
``invalid_request`` could not be classified. Posting the form with HTTP Basic auth
through our own session keeps every case in zoom/README.md exact (``errors.token_error``).
Authlib does what it is better at: random state, the PKCE verifier and S256 challenge,
and the authorization URL.

``scope`` is not sent on the authorization URL: a user-managed Zoom app takes its scopes
from its Marketplace registration, and Zoom has refused a ``scope`` parameter there
since 2021 ("Invalid scopes"; mattermost-plugin-zoom#222, thunderbird/appointment#997).
Compare ``TokenSet.scopes`` with what you need instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from urllib3.exceptions import NewConnectionError

from .errors import (
    ZoomAuthError,
    ZoomTimeout,
    ZoomUnavailable,
    api_error,
    json_object,
    token_error,
    tracking_id_of,
)

log = logging.getLogger(__name__)

_PAGE_SIZE = 300  # Zoom's maximum for meeting lists: fewest requests against the rate limit
_DEFAULT_EXPIRES_IN = 3599  # Zoom's documented access-token life, if a response omits it


@dataclass(frozen=True)
class ZoomEndpoints:
    """Where the OAuth server and the REST API live: real Zoom or the sandbox."""

    authorize_url: str
    token_url: str
    revoke_url: str
    api_base_url: str

    @classmethod
    def for_zoom(cls) -> ZoomEndpoints:
        """The production Zoom endpoints."""
        return cls(
            authorize_url="https://zoom.us/oauth/authorize",
            token_url="https://zoom.us/oauth/token",  # noqa: S106 - a URL, not a secret
            revoke_url="https://zoom.us/oauth/revoke",
            api_base_url="https://api.zoom.us/v2",
        )

    @classmethod
    def for_sandbox(cls, base_url: str) -> ZoomEndpoints:
        """The sandbox's endpoints under ``base_url`` (e.g. ``http://127.0.0.1:5000/zoom-sandbox``)."""
        base = base_url.rstrip("/")
        return cls(
            authorize_url=f"{base}/oauth/authorize",
            token_url=f"{base}/oauth/token",
            revoke_url=f"{base}/oauth/revoke",
            api_base_url=f"{base}/v2",
        )


@dataclass(frozen=True)
class TokenSet:
    """Tokens from one grant; ``expires_at`` is aware UTC. The repr hides the tokens."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class AuthorizationRequest:
    """A consent URL plus the state and PKCE verifier to keep until the callback."""

    url: str
    state: str = field(repr=False)
    code_verifier: str = field(repr=False)


class ZoomClient:
    """HTTP client for Zoom's OAuth endpoints and Meetings API.

    One ``requests.Session`` per client for connection pooling; every call has a
    ``(connect, read)`` timeout. Failures are raised as :mod:`dashboard.zoom.errors`.
    """

    def __init__(
        self,
        endpoints: ZoomEndpoints,
        client_id: str,
        client_secret: str,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.endpoints = endpoints
        self.client_id = client_id
        self._client_secret = client_secret
        self._session = session or requests.Session()
        self._timeout = (connect_timeout, read_timeout)
        self._clock = clock

    def __repr__(self) -> str:
        return f"ZoomClient(client_id={self.client_id!r}, api={self.endpoints.api_base_url!r})"

    # --- OAuth -------------------------------------------------------------------

    def authorization_request(
        self, redirect_uri: str, scopes: Sequence[str] = ()
    ) -> AuthorizationRequest:
        """Build the consent URL with a fresh random ``state`` and a PKCE S256 pair.

        ``scopes`` is accepted for the caller's record but not sent: see the module
        docstring (Zoom rejects ``scope`` on the authorize URL of user-managed apps).
        """
        del scopes
        state = generate_token(32)
        code_verifier = generate_token(64)  # RFC 7636: 43-128 unreserved characters
        url = prepare_grant_uri(
            self.endpoints.authorize_url,
            client_id=self.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return AuthorizationRequest(url=url, state=state, code_verifier=code_verifier)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        """Trade an authorization code (valid 5 minutes, single use) for tokens."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return self._token_request(form, secrets=(code, code_verifier))

    def refresh(self, refresh_token: str) -> TokenSet:
        """Get new tokens. Zoom rotates refresh tokens: save the returned one before use.

        A read timeout here (``ZoomTimeout.maybe_sent``) may already have burned the old
        refresh token, so a later :class:`InvalidGrant` can follow it.
        """
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_request(form, secrets=(refresh_token,), previous=refresh_token)

    def revoke(self, token: str) -> None:
        """Revoke a token at Zoom; raises a :class:`ZoomError` the caller can log."""
        response = self._send(
            "POST",
            self.endpoints.revoke_url,
            data={"token": token},
            auth=(self.client_id, self._client_secret),
        )
        if not response.ok:
            raise token_error(response, now=self._clock(), secrets=self._secrets(token))
        body = json_object(response)
        if body is not None and body.get("status") not in (None, "success"):
            raise ZoomAuthError("Zoom did not confirm the revocation", status=response.status_code)

    # --- Meetings API ----------------------------------------------------------------

    def get_me(self, access_token: str) -> dict:
        """The connected Zoom user (``id``, ``account_id``, ``email``, ``timezone``...)."""
        return self._api("GET", "/users/me", access_token)

    def create_meeting(self, access_token: str, body: dict, user_id: str = "me") -> dict:
        """Create a meeting; returns Zoom's 201 body (its ``start_url`` is a secret)."""
        return self._api("POST", f"/users/{_segment(user_id)}/meetings", access_token, json=body)

    def get_meeting(self, access_token: str, meeting_id: int | str) -> dict:
        """Read one meeting; :class:`MeetingNotFound` if it is gone."""
        return self._api("GET", f"/meetings/{_segment(meeting_id)}", access_token)

    def update_meeting(self, access_token: str, meeting_id: int | str, body: dict) -> None:
        """PATCH a meeting (Zoom answers 204; read it again to see the result)."""
        self._api("PATCH", f"/meetings/{_segment(meeting_id)}", access_token, json=body)

    def delete_meeting(self, access_token: str, meeting_id: int | str) -> None:
        """Delete a meeting; raises :class:`MeetingNotFound` if already gone."""
        self._api("DELETE", f"/meetings/{_segment(meeting_id)}", access_token)

    def list_meetings(
        self, access_token: str, user_id: str = "me", type_: str = "upcoming"
    ) -> Iterator[dict]:
        """Yield every meeting of the user, following ``next_page_token``."""
        params: dict[str, Any] = {"type": type_, "page_size": _PAGE_SIZE}
        seen_tokens: set[str] = set()
        while True:
            page = self._api(
                "GET", f"/users/{_segment(user_id)}/meetings", access_token, params=params
            )
            yield from page.get("meetings") or []
            token = page.get("next_page_token") or ""
            # A repeated token would loop forever against the rate limit: stop instead.
            if not token or token in seen_tokens:
                return
            seen_tokens.add(token)
            params["next_page_token"] = token

    # --- plumbing -------------------------------------------------------------------

    def _token_request(
        self, form: dict[str, str], *, secrets: Iterable[str], previous: str | None = None
    ) -> TokenSet:
        now = self._clock()
        response = self._send(
            "POST",
            self.endpoints.token_url,
            data=form,
            auth=(self.client_id, self._client_secret),
        )
        body = json_object(response)
        if not response.ok or (
            body is not None
            and "access_token" not in body
            and ("error" in body or "reason" in body)
        ):
            raise token_error(response, now=now, secrets=self._secrets(*secrets))
        if body is None or not body.get("access_token"):
            raise ZoomUnavailable(
                "Zoom's token response was not a token", status=response.status_code
            )
        # RFC 6749 section 6: no new refresh token in the answer means the old one stays.
        refresh_token = body.get("refresh_token") or previous
        if not refresh_token:
            raise ZoomUnavailable(
                "Zoom's token response had no refresh token", status=response.status_code
            )
        try:
            expires_in = int(body.get("expires_in", _DEFAULT_EXPIRES_IN))
        except (TypeError, ValueError):
            expires_in = _DEFAULT_EXPIRES_IN
        scope = str(body.get("scope") or "")
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=str(refresh_token),
            # Measured from before the request, so the token never outlives our estimate.
            expires_at=now + timedelta(seconds=expires_in),
            scopes=tuple(s for s in scope.replace(",", " ").split() if s),
        )

    def _api(self, method: str, path: str, access_token: str, **kwargs: Any) -> Any:
        response = self._send(
            method,
            self.endpoints.api_base_url + path,
            headers={"Authorization": f"Bearer {access_token}"},
            **kwargs,
        )
        if not response.ok:
            raise api_error(response, now=self._clock(), secrets=self._secrets(access_token))
        if method in ("PATCH", "DELETE"):
            return None  # Zoom answers 204; there is nothing to read
        body = json_object(response)
        if body is None:
            # The request succeeded (e.g. a create), only its answer is unreadable.
            raise ZoomUnavailable(
                "Zoom answered with a body that is not a JSON object",
                status=response.status_code,
                maybe_sent=True,
            )
        return body

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        started = time.monotonic()
        try:
            response = self._session.request(
                method, url, headers=headers, timeout=self._timeout, **kwargs
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise ZoomTimeout("Timed out connecting to Zoom", maybe_sent=False) from exc
        except requests.exceptions.Timeout as exc:
            raise ZoomTimeout("Zoom did not answer in time", maybe_sent=True) from exc
        except requests.exceptions.RequestException as exc:
            # Only the host and the exception type: requests' messages echo URLs.
            raise ZoomUnavailable(
                f"Could not reach {urlsplit(url).hostname}: {type(exc).__name__}",
                maybe_sent=not _never_connected(exc),
            ) from exc
        # The path only: query strings and bodies may carry tokens or codes.
        log.log(
            logging.DEBUG if response.ok else logging.INFO,
            "zoom %s %s -> %s in %.0f ms (tracking id %s)",
            method,
            url.split("?", 1)[0],
            response.status_code,
            (time.monotonic() - started) * 1000,
            tracking_id_of(response),
        )
        return response

    def _secrets(self, *values: str) -> tuple[str, ...]:
        return (self._client_secret, *values)


def _segment(value: int | str) -> str:
    # Ids and UUIDs go into the path as one segment; a UUID may contain "/" or "+".
    return quote(str(value), safe="")


def _never_connected(exc: requests.exceptions.RequestException) -> bool:
    """True when the socket never opened (refused, DNS), so Zoom cannot have acted."""
    # requests wraps urllib3's MaxRetryError, whose ``reason`` is the socket error;
    # NewConnectionError covers refused connections and failed name resolution.
    reason = getattr(exc.args[0], "reason", exc.args[0]) if exc.args else None
    return isinstance(exc, requests.exceptions.ConnectionError) and isinstance(
        reason, NewConnectionError
    )
