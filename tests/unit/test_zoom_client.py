"""The Zoom client against the behaviour documented in ../shared/zoom/README.md.

No network: ``responses`` stands in for Zoom. Each test names the Zoom fact it proves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from dashboard.zoom import errors
from dashboard.zoom.client import TokenSet, ZoomClient, ZoomEndpoints
from dashboard.zoom.meetings import booking_marker as meeting_marker
from dashboard.zoom.meetings import find_marked_meeting
from tests import zoom_openapi
from tests.zoom_openapi import request_body_validator

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
CLIENT_ID = "lakesis-client-id"
CLIENT_SECRET = "client-secret-9f8e7d"
ACCESS = "access-token-1a2b3c"
REFRESH = "refresh-token-4d5e6f"
NEW_REFRESH = "refresh-token-rotated-7a8b"
START_URL = "https://zoom.us/s/81047304804?zak=host-zak-0c0d0e"
SECRETS = (CLIENT_SECRET, ACCESS, REFRESH, NEW_REFRESH, START_URL, "host-zak-0c0d0e")

ZOOM = ZoomEndpoints.for_zoom()
TOKEN_URL = ZOOM.token_url
API = ZOOM.api_base_url
TOKEN_OK = {
    "access_token": ACCESS,
    "token_type": "bearer",
    "refresh_token": NEW_REFRESH,
    "expires_in": 3599,
    "scope": "meeting:write:meeting user:read:user",
    "api_url": "https://api.zoom.us",
}
DAILY_MESSAGE = (
    "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests "
    "permitted for this particular user. You may resume these requests at GMT 00:00:00."
)


# Stricter than the shared web `zoom`: every call a test registers must be made.
@pytest.fixture
def zoom():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def client() -> ZoomClient:
    return ZoomClient(ZOOM, CLIENT_ID, CLIENT_SECRET, clock=lambda: NOW)


def form_of(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def typical_booking_body(booking_id: str = "bk_01HZX") -> dict:
    """What the booking workflow asks for: a 30-minute scheduled call, marker in agenda."""
    return {
        "topic": "Intro call with Ada Lovelace",
        "type": 2,
        "start_time": "2026-12-01T10:00:00Z",
        "duration": 30,
        "timezone": "Europe/Lisbon",
        "agenda": f"{meeting_marker(booking_id)} Booked through Lakesis.",
        "settings": {
            "join_before_host": False,
            "waiting_room": True,
            "host_video": False,
            "participant_video": False,
            "mute_upon_entry": True,
            "approval_type": 2,
            "auto_recording": "none",
        },
    }


# --- OAuth: authorization URL ------------------------------------------------------------


def test_authorization_url_carries_client_redirect_state_and_s256_challenge(client):
    auth = client.authorization_request("https://app.example/zoom/callback", ["user:read:user"])

    url = urlsplit(auth.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://zoom.us/oauth/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "https://app.example/zoom/callback"
    assert query["state"] == auth.state
    assert query["code_challenge_method"] == "S256"
    digest = hashlib.sha256(auth.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    # Zoom refuses a scope parameter for user-managed apps; scopes come from the app.
    assert "scope" not in query
    assert auth.code_verifier not in auth.url


def test_each_authorization_request_has_fresh_state_and_valid_verifier(client):
    first = client.authorization_request("https://app.example/cb", [])
    second = client.authorization_request("https://app.example/cb", [])

    assert first.state != second.state
    assert first.code_verifier != second.code_verifier
    assert 43 <= len(first.code_verifier) <= 128 and first.code_verifier.isalnum()


def test_sandbox_endpoints_live_under_the_given_base_url():
    sandbox = ZoomEndpoints.for_sandbox("http://127.0.0.1:5000/zoom-sandbox/")

    assert sandbox == ZoomEndpoints(
        authorize_url="http://127.0.0.1:5000/zoom-sandbox/oauth/authorize",
        token_url="http://127.0.0.1:5000/zoom-sandbox/oauth/token",
        revoke_url="http://127.0.0.1:5000/zoom-sandbox/oauth/revoke",
        api_base_url="http://127.0.0.1:5000/zoom-sandbox/v2",
    )
    assert ZOOM.revoke_url == "https://zoom.us/oauth/revoke"


# --- OAuth: token endpoint ------------------------------------------------------------


def test_code_exchange_sends_basic_auth_code_verifier_and_redirect_uri(zoom, client):
    zoom.post(TOKEN_URL, json=TOKEN_OK)

    tokens = client.exchange_code("auth-code-1", "https://app.example/cb", "verifier-xyz")

    request = zoom.calls[0].request
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form_of(zoom.calls[0]) == {
        "grant_type": "authorization_code",
        "code": "auth-code-1",
        "redirect_uri": "https://app.example/cb",
        "code_verifier": "verifier-xyz",
    }
    assert tokens == TokenSet(
        access_token=ACCESS,
        refresh_token=NEW_REFRESH,
        expires_at=NOW + timedelta(seconds=3599),
        scopes=("meeting:write:meeting", "user:read:user"),
    )


def test_refresh_returns_the_rotated_refresh_token(zoom, client):
    zoom.post(TOKEN_URL, json=TOKEN_OK)

    tokens = client.refresh(REFRESH)

    assert form_of(zoom.calls[0]) == {"grant_type": "refresh_token", "refresh_token": REFRESH}
    assert "Basic " in zoom.calls[0].request.headers["Authorization"]
    assert tokens.refresh_token == NEW_REFRESH
    assert tokens.expires_at == NOW + timedelta(seconds=3599)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"reason": "Invalid Token!", "error": "invalid_grant"}),
        (401, {"reason": "Invalid Token!", "error": "invalid_grant"}),
        (400, {"error": "invalid_grant"}),
        (400, {"reason": "Invalid Token!"}),
        (401, {"reason": "Invalid Token!"}),
        (400, {"reason": "Invalid Token!", "error": "invalid_request"}),
    ],
)
def test_dead_refresh_token_is_terminal_invalid_grant(zoom, client, status, body):
    zoom.post(TOKEN_URL, status=status, json=body)

    with pytest.raises(errors.InvalidGrant) as caught:
        client.refresh(REFRESH)

    assert caught.value.status == status


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "Invalid authorization code", "error": "invalid_grant"},
        {"reason": "Invalid authorization code", "error": "invalid_request"},
        {"error": "invalid_grant"},  # PKCE verifier mismatch
    ],
)
def test_bad_authorization_code_or_verifier_is_invalid_grant(zoom, client, body):
    zoom.post(TOKEN_URL, status=400, json=body)

    with pytest.raises(errors.InvalidGrant) as caught:
        client.exchange_code("used-code", "https://app.example/cb", "verifier")

    assert (body.get("reason") or body["error"]) in str(caught.value)


def test_wrong_client_credentials_are_invalid_client_not_a_dead_grant(zoom, client):
    body = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
    zoom.post(TOKEN_URL, status=401, json=body)

    with pytest.raises(errors.InvalidClient) as caught:
        client.refresh(REFRESH)

    assert not isinstance(caught.value, errors.InvalidGrant)


def test_unsupported_grant_type_is_an_auth_error_that_is_not_terminal(zoom, client):
    body = {"reason": "unsupported grant type", "error": "unsupported_grant_type"}
    zoom.post(TOKEN_URL, status=400, json=body)

    with pytest.raises(errors.ZoomAuthError) as caught:
        client.refresh(REFRESH)

    assert type(caught.value) is errors.ZoomAuthError


@pytest.mark.parametrize("status", [500, 502, 503])
def test_token_endpoint_5xx_is_unavailable_even_with_html_body(zoom, client, status):
    zoom.post(TOKEN_URL, status=status, body="<html>Bad gateway</html>")

    with pytest.raises(errors.ZoomUnavailable) as caught:
        client.refresh(REFRESH)

    assert not isinstance(caught.value, errors.ZoomAuthError)


@pytest.mark.parametrize("answer", [{"body": "not json"}, {"json": {"token_type": "bearer"}}])
def test_token_answer_without_a_token_is_unavailable(zoom, client, answer):
    zoom.post(TOKEN_URL, status=200, **answer)

    with pytest.raises(errors.ZoomUnavailable):
        client.exchange_code("code", "https://app.example/cb", "verifier")


def test_revoke_posts_the_token_with_basic_auth(zoom, client):
    zoom.post(ZOOM.revoke_url, json={"status": "success"})

    assert client.revoke(ACCESS) is None

    assert form_of(zoom.calls[0]) == {"token": ACCESS}
    assert zoom.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_revoke_failure_raises_a_loggable_zoom_error(zoom, client):
    zoom.post(
        ZOOM.revoke_url, status=400, json={"reason": "Invalid Token!", "error": "invalid_grant"}
    )

    with pytest.raises(errors.ZoomError) as caught:
        client.revoke(ACCESS)

    assert "Invalid Token!" in str(caught.value) and ACCESS not in str(caught.value)


# --- Meetings API ----------------------------------------------------------------------


def test_get_me_sends_the_bearer_token_and_returns_the_account(zoom, client):
    me = {"id": "KDcuGIm1QgePTO8WbOqwIQ", "account_id": "acc-1", "email": "ada@example.com"}
    zoom.get(f"{API}/users/me", json=me)

    assert client.get_me(ACCESS) == me
    assert zoom.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS}"


def test_every_call_uses_the_one_session_and_connect_read_timeouts(zoom):
    session = requests.Session()
    client = ZoomClient(ZOOM, CLIENT_ID, CLIENT_SECRET, session=session, read_timeout=7.0)
    zoom.get(f"{API}/users/me", json={"id": "u"})
    zoom.post(TOKEN_URL, json=TOKEN_OK)
    sent = []
    original = session.request
    session.request = lambda *a, **kw: sent.append(kw["timeout"]) or original(*a, **kw)

    client.get_me(ACCESS)
    client.refresh(REFRESH)

    assert sent == [(3.05, 7.0), (3.05, 7.0)]
    assert [c.request.req_kwargs["timeout"] for c in zoom.calls] == sent


def test_create_meeting_posts_the_body_for_the_user_and_returns_201_body(zoom, client):
    created = {
        "id": 81047304804,
        "uuid": "aBc==",
        "join_url": "https://zoom.us/j/1",
        "start_url": START_URL,
    }
    zoom.post(f"{API}/users/me/meetings", status=201, json=created)

    assert client.create_meeting(ACCESS, typical_booking_body()) == created
    assert json.loads(zoom.calls[0].request.body) == typical_booking_body()


def test_create_for_another_host_goes_to_that_users_path(zoom, client):
    zoom.post(f"{API}/users/host%40example.com/meetings", status=201, json={"id": 1})

    client.create_meeting(ACCESS, typical_booking_body(), user_id="host@example.com")


@pytest.mark.parametrize("meeting_id", [81047304804, "81047304804"])
def test_get_meeting_accepts_number_or_string_id(zoom, client, meeting_id):
    zoom.get(f"{API}/meetings/81047304804", json={"id": 81047304804, "status": "waiting"})

    assert client.get_meeting(ACCESS, meeting_id)["status"] == "waiting"


def test_update_meeting_patches_and_expects_204(zoom, client):
    zoom.patch(f"{API}/meetings/81047304804", status=204)

    assert client.update_meeting(ACCESS, 81047304804, {"duration": 45}) is None
    assert json.loads(zoom.calls[0].request.body) == {"duration": 45}


def test_delete_meeting_expects_204(zoom, client):
    zoom.delete(f"{API}/meetings/81047304804", status=204)

    assert client.delete_meeting(ACCESS, "81047304804") is None


def test_deleting_a_meeting_already_gone_raises_meeting_not_found(zoom, client):
    body = {"code": 3001, "message": "Meeting does not exist: 81047304804."}
    zoom.delete(f"{API}/meetings/81047304804", status=404, json=body)

    with pytest.raises(errors.MeetingNotFound) as caught:
        client.delete_meeting(ACCESS, 81047304804)

    assert (caught.value.status, caught.value.code) == (404, 3001)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, {"code": 3001, "message": "Meeting does not exist"}, errors.MeetingNotFound),
        (404, {}, errors.MeetingNotFound),
        (400, {"code": 3002, "message": "Meeting is in progress"}, errors.MeetingInProgress),
        (400, {"code": 3003, "message": "You are not the meeting host"}, errors.NotMeetingHost),
        (404, {"code": 1001, "message": "User does not exist: x"}, errors.UserNotFound),
        (400, {"code": 300, "message": "Invalid meeting id"}, errors.ZoomValidationError),
        (400, {"code": 3000, "message": "Cannot access webinar info"}, errors.ZoomValidationError),
        (401, {"code": 124, "message": "Access token is expired."}, errors.AccessTokenExpired),
        (401, {"code": 124, "message": "Invalid access token."}, errors.AccessTokenExpired),
        (500, {"code": 500, "message": "Internal error"}, errors.ZoomUnavailable),
        (502, "<html>Bad Gateway</html>", errors.ZoomUnavailable),
        (503, "", errors.ZoomUnavailable),
    ],
)
def test_api_errors_map_to_what_the_caller_must_do(zoom, client, status, body, expected):
    answer = {"json": body} if isinstance(body, dict) else {"body": body}
    zoom.get(f"{API}/meetings/1", status=status, **answer)

    with pytest.raises(expected) as caught:
        client.get_meeting(ACCESS, 1)

    assert type(caught.value) is expected and caught.value.status == status


def test_missing_scope_lists_the_scopes_zoom_wants(zoom, client):
    message = (
        "Invalid access token, does not contain scopes:[meeting:write:meeting, meeting:write]."
    )
    zoom.post(f"{API}/users/me/meetings", status=401, json={"code": 4711, "message": message})

    with pytest.raises(errors.MissingScope) as caught:
        client.create_meeting(ACCESS, typical_booking_body())

    assert caught.value.scopes == ["meeting:write:meeting", "meeting:write"]


def test_validation_error_keeps_zoom_field_errors(zoom, client):
    body = {
        "code": 300,
        "message": "Validation Failed.",
        "errors": [{"field": "start_time", "message": "Invalid field."}],
    }
    zoom.post(f"{API}/users/me/meetings", status=400, json=body)

    with pytest.raises(errors.ZoomValidationError) as caught:
        client.create_meeting(ACCESS, typical_booking_body())

    assert caught.value.errors == [{"field": "start_time", "message": "Invalid field."}]
    assert caught.value.code == 300


def test_created_meeting_with_unreadable_answer_is_unavailable_but_maybe_created(zoom, client):
    zoom.post(f"{API}/users/me/meetings", status=201, body="<html>oops</html>")

    with pytest.raises(errors.ZoomUnavailable) as caught:
        client.create_meeting(ACCESS, typical_booking_body())

    assert caught.value.maybe_sent is True


def test_list_meetings_follows_next_page_token_with_page_size_300(zoom, client):
    url = f"{API}/users/me/meetings"
    first = {"next_page_token": "tok2", "meetings": [{"id": 1}, {"id": 2}]}
    zoom.get(
        url,
        json=first,
        match=[responses.matchers.query_param_matcher({"type": "upcoming", "page_size": "300"})],
    )
    zoom.get(
        url,
        json={"next_page_token": "", "meetings": [{"id": "3"}]},
        match=[
            responses.matchers.query_param_matcher(
                {"type": "upcoming", "page_size": "300", "next_page_token": "tok2"}
            )
        ],
    )

    assert [m["id"] for m in client.list_meetings(ACCESS)] == [1, 2, "3"]


def test_list_meetings_stops_when_zoom_repeats_a_page_token(zoom, client):
    zoom.get(f"{API}/users/me/meetings", json={"next_page_token": "same", "meetings": [{"id": 1}]})

    assert len(list(client.list_meetings(ACCESS, type_="scheduled"))) == 2
    assert len(zoom.calls) == 2


# --- Rate limits ---------------------------------------------------------------------------


def rate_limited(zoom, client, headers=None, message="Try again later.") -> errors.RateLimited:
    zoom.post(
        f"{API}/users/me/meetings",
        status=429,
        headers=headers or {},
        json={"code": 429, "message": message},
    )
    with pytest.raises(errors.RateLimited) as caught:
        client.create_meeting(ACCESS, typical_booking_body())
    return caught.value


def test_429_with_retry_after_seconds_says_when_to_retry(zoom, client):
    limited = rate_limited(zoom, client, {"Retry-After": "7", "X-RateLimit-Type": "QPS"})

    assert (limited.retry_after, limited.daily) == (7.0, False)
    assert limited.resume_at == NOW + timedelta(seconds=7)


def test_429_daily_limit_with_iso_retry_after_parks_until_that_time(zoom, client):
    headers = {
        "Retry-After": "2026-12-01T00:00:00Z",
        "X-RateLimit-Type": "Daily-limit",
        "X-RateLimit-Category": "Medium",
        "X-RateLimit-Remaining": "0",
    }
    limited = rate_limited(zoom, client, headers, DAILY_MESSAGE)

    assert limited.daily is True
    assert limited.resume_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert limited.retry_after == 9 * 3600


def test_429_per_second_with_x_ratelimit_reset_waits_until_that_epoch_second(zoom, client):
    reset = NOW + timedelta(seconds=2)
    headers = {"X-RateLimit-Type": "QPS", "X-RateLimit-Category": "Medium",
               "X-RateLimit-Reset": str(int(reset.timestamp()))}
    limited = rate_limited(zoom, client, headers)

    assert (limited.retry_after, limited.resume_at, limited.daily) == (2.0, reset, False)


def test_429_daily_cap_with_only_the_accounts_light_quota_is_still_the_daily_cap(zoom, client):
    headers = {"X-RateLimit-Category": "Light", "X-RateLimit-Limit": "30",
               "X-RateLimit-Remaining": "0"}
    limited = rate_limited(zoom, client, headers, DAILY_MESSAGE)

    assert limited.daily is True
    assert limited.resume_at == datetime(2026, 12, 1, tzinfo=UTC)


def test_429_per_second_without_headers_leaves_backoff_to_the_caller(zoom, client):
    message = "You have reached the maximum per-second rate limit for this API. Try again later."
    limited = rate_limited(zoom, client, message=message)

    assert (limited.retry_after, limited.resume_at, limited.daily) == (None, None, False)


def test_429_daily_message_without_headers_resumes_at_next_utc_midnight(zoom, client):
    limited = rate_limited(zoom, client, message=DAILY_MESSAGE)

    assert limited.daily is True
    assert limited.retry_after is None
    assert limited.resume_at == datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 0.0),
        ("2.5", 2.5),
        ("2026-11-30T15:01:00+00:00", 60.0),
        ("2026-11-30T15:01:00", 60.0),  # no offset: Zoom's dates are GMT
        ("Mon, 30 Nov 2026 15:02:00 GMT", 120.0),
        ("2026-11-30T14:00:00Z", 0.0),  # already past: retry now, never negative
        ("soon", None),
        ("nan", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(header, seconds):
    assert errors.parse_retry_after(header, NOW)[0] == seconds


# --- Transport failures ---------------------------------------------------------------------


def test_connect_timeout_means_the_request_was_not_sent(zoom, client):
    zoom.post(f"{API}/users/me/meetings", body=requests.exceptions.ConnectTimeout())

    with pytest.raises(errors.ZoomTimeout) as caught:
        client.create_meeting(ACCESS, typical_booking_body())

    assert caught.value.maybe_sent is False


def test_read_timeout_means_zoom_may_have_processed_the_request(zoom, client):
    zoom.post(f"{API}/users/me/meetings", body=requests.exceptions.ReadTimeout())

    with pytest.raises(errors.ZoomTimeout) as caught:
        client.create_meeting(ACCESS, typical_booking_body())

    assert caught.value.maybe_sent is True


def test_connection_reset_is_unavailable(zoom, client):
    zoom.get(f"{API}/users/me", body=requests.exceptions.ConnectionError("reset by peer"))

    with pytest.raises(errors.ZoomUnavailable) as caught:
        client.get_me(ACCESS)

    assert not isinstance(caught.value, errors.ZoomTimeout)


def test_connection_refused_is_unavailable_and_not_sent():
    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ZoomClient(
        ZoomEndpoints.for_sandbox(f"http://127.0.0.1:{port}"), CLIENT_ID, CLIENT_SECRET
    )

    with pytest.raises(errors.ZoomUnavailable) as caught:
        client.get_me(ACCESS)

    assert caught.value.maybe_sent is False


# --- Secrets never leak -------------------------------------------------------------------

# Zoom could only echo what the call sent it, plus anything JWT- or start_url-shaped.
JWT = "eyJhbGciOiJIUzUxMiJ9.eyJ2ZXIiOjd9.c2ln"
API_ECHO = f"bad {ACCESS} for {CLIENT_ID}:{CLIENT_SECRET} {START_URL} {JWT}"
TOKEN_ECHO = f"bad {REFRESH} for {CLIENT_ID}:{CLIENT_SECRET} {START_URL} {JWT}"


def _api(status, code=None, headers=None):
    return lambda zoom, client: (
        zoom.get(
            f"{API}/meetings/1",
            status=status,
            headers=headers or {},
            json={
                "code": code,
                "message": API_ECHO,
                "errors": [{"field": "x", "message": API_ECHO}],
            },
        ),
        lambda: client.get_meeting(ACCESS, 1),
    )


def _token(status, error):
    return lambda zoom, client: (
        zoom.post(TOKEN_URL, status=status, json={"reason": TOKEN_ECHO, "error": error}),
        lambda: client.refresh(REFRESH),
    )


def _transport(exception):
    return lambda zoom, client: (
        zoom.get(f"{API}/meetings/1", body=exception(API_ECHO)),
        lambda: client.get_meeting(ACCESS, 1),
    )


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (_token(400, "invalid_grant"), errors.InvalidGrant),
        (_token(401, "invalid_client"), errors.InvalidClient),
        (_token(400, "unsupported_grant_type"), errors.ZoomAuthError),
        (_api(401, 124), errors.AccessTokenExpired),
        (_api(401, 4711), errors.MissingScope),
        (_api(429, 429, {"X-RateLimit-Type": "Daily-limit"}), errors.RateLimited),
        (_api(404, 3001), errors.MeetingNotFound),
        (_api(400, 3002), errors.MeetingInProgress),
        (_api(400, 3003), errors.NotMeetingHost),
        (_api(404, 1001), errors.UserNotFound),
        (_api(400, 300), errors.ZoomValidationError),
        (_api(500, 500), errors.ZoomUnavailable),
        (_transport(requests.exceptions.ReadTimeout), errors.ZoomTimeout),
        (_transport(requests.exceptions.ConnectionError), errors.ZoomUnavailable),
    ],
)
def test_errors_never_show_tokens_client_secret_or_start_url(
    zoom, client, caplog, scenario, expected
):
    caplog.set_level(logging.DEBUG)
    _, call = scenario(zoom, client)

    with pytest.raises(expected) as caught:
        call()

    exc = caught.value
    shown = " ".join(
        [
            str(exc),
            repr(exc),
            *map(str, exc.args),
            exc.message,
            caplog.text,
            repr(getattr(exc, "errors", "")),
        ]
    )
    assert type(exc) is expected
    assert not [secret for secret in SECRETS if secret in shown]
    assert JWT not in shown
    if exc.status is not None:  # Zoom's own words survive, minus the secrets
        assert exc.message.startswith(f"bad [redacted] for {CLIENT_ID}:[redacted]")


def test_token_set_authorization_request_and_client_reprs_hide_secrets(client):
    tokens = TokenSet(ACCESS, REFRESH, NOW, ("user:read:user",))
    auth = client.authorization_request("https://app.example/cb", [])

    shown = f"{tokens!r} {tokens} {client!r} {auth!r}"
    assert not [secret for secret in SECRETS if secret in shown]
    assert auth.code_verifier not in shown


# --- Duplicate-safe creates ---------------------------------------------------------------


def test_marked_meeting_is_found_again_after_an_unknown_create_outcome():
    marker = meeting_marker("bk_01HZX")
    meetings = [
        {"id": 1, "agenda": "[lakesis:booking:bk_01HZ] other booking"},
        {"id": 2},
        {"id": 3, "agenda": f"{marker} Booked through Lakesis."},
    ]

    assert find_marked_meeting(meetings, marker) == meetings[2]
    assert find_marked_meeting(meetings[:2], marker) is None
    assert marker != meeting_marker("bk_01HZ")


# --- Bodies Zoom accepts (its own OpenAPI file) -------------------------------------------


def test_create_body_sent_for_a_typical_booking_matches_zoom_schema(zoom, client):
    zoom.post(f"{API}/users/me/meetings", status=201, json={"id": 1})
    client.create_meeting(ACCESS, typical_booking_body())
    sent = json.loads(zoom.calls[0].request.body)

    request_body_validator("meetingCreate").validate(sent)
    # Limits Zoom enforces that its Swagger file does not state.
    assert len(sent["topic"]) <= 200 and len(sent["agenda"]) <= 2000


def test_reschedule_body_sent_matches_zoom_update_schema(zoom, client):
    zoom.patch(f"{API}/meetings/81047304804", status=204)
    body = {
        "start_time": "2026-12-02T09:30:00Z",
        "duration": 45,
        "timezone": "Europe/Lisbon",
        "topic": "Intro call with Ada Lovelace (moved)",
    }
    client.update_meeting(ACCESS, 81047304804, body)

    request_body_validator("meetingUpdate").validate(json.loads(zoom.calls[0].request.body))


def test_zoom_schema_rejects_a_body_zoom_would_refuse():
    wrong = dict(typical_booking_body(), type=5, duration="30", start_time="tomorrow")

    problems = {e.path[0] for e in request_body_validator("meetingCreate").iter_errors(wrong)}

    assert problems == {"type", "duration", "start_time"}


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
def test_missing_openapi_file_skips_locally_and_fails_under_ci(monkeypatch, tmp_path, ci, outcome):
    monkeypatch.setattr(zoom_openapi, "OPENAPI_PATH", tmp_path / "absent.json")
    monkeypatch.setenv("CI", ci)

    with pytest.raises(outcome):
        zoom_openapi.require_openapi()


# --- Every refusal of a refresh is a dead grant (zoom/README.md, Corrections) -------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"reason": "The token has been revoked", "error": "invalid_grant", "code": 4741}),
        (400, {"reason": "Authorization code expired", "error": "invalid_request",
               "code": 4733}),
        (400, {"reason": "The owner of the token does not exist", "code": 4735}),
        (400, {"reason": "Token is disabled by admin", "error": "invalid_request",
               "code": 4738}),
        (401, {}),
        (403, {"reason": "Forbidden"}),
        (400, {"reason": "Invalid Token!", "error": "invalid_request"}),
    ],
    ids=["4741", "4733", "4735", "4738", "bare-401", "403", "invalid_request"],
)
def test_any_refusal_of_a_refresh_means_the_grant_is_dead(zoom, client, status, body):
    zoom.post(TOKEN_URL, status=status, json=body)

    with pytest.raises(errors.InvalidGrant) as caught:
        client.refresh(REFRESH)

    assert caught.value.status == status
    if "code" in body:
        assert caught.value.code == body["code"]


def test_a_failed_call_keeps_zooms_tracking_id_for_support(zoom, client, caplog):
    zoom.get(f"{API}/meetings/1", status=500, json={"code": 500, "message": "oops"},
             headers={"x-zm-trackingid": "v=2.0;clid=us06;rid=WEB_abc123"})

    with caplog.at_level(logging.INFO, logger="dashboard.zoom.client"), \
            pytest.raises(errors.ZoomUnavailable) as caught:
        client.get_meeting(ACCESS, 1)

    assert caught.value.tracking_id == "v=2.0;clid=us06;rid=WEB_abc123"
    assert "Zoom tracking id v=2.0;clid=us06;rid=WEB_abc123" in str(caught.value)
    assert "WEB_abc123" in caplog.text


def test_scheduling_for_a_user_without_privilege_is_its_own_error(zoom, client):
    zoom.post(f"{API}/users/me/meetings", status=400,
              json={"code": 3000, "message": "You cannot schedule a meeting for dr.rui@x.test"})

    with pytest.raises(errors.NoSchedulingPrivilege) as caught:
        client.create_meeting(ACCESS, {**typical_booking_body(), "schedule_for": "dr.rui@x.test"})

    assert caught.value.code == 3000
