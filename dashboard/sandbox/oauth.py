"""Zoom's OAuth endpoints: consent page, token (code + refresh grants) and revoke."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Response, redirect, render_template, request

from . import clock, directory, grants, marketplace, registration, responses
from .blueprint import bp, sandbox_state
from .faults import fault_switch
from .settings import setting
from .storage import bump, transaction

_AUTH_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "scope",
)


def _with_query(url: str, params: dict[str, str]) -> str:
    """Add query parameters to a URL that may already carry some."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error_page(message: str, code: int = 4700) -> tuple[str, int]:
    """Zoom's authorize error page: shown in place, never redirected."""
    return render_template("sandbox/oauth_error.html", code=code, message=message), 400


def _check_request(params: dict[str, str]) -> tuple[str, int] | Response | list[str]:
    """Validate authorize parameters; return the scopes asked for, or the answer to send.

    Client and redirect URI are checked first: until both are trusted, nothing may be
    redirected (Zoom shows error 4700 instead).
    """
    if params.get("client_id") != setting("ZOOM_CLIENT_ID"):
        return _error_page(f"Invalid client_id: {params.get('client_id') or '(missing)'}")
    if params.get("redirect_uri") != setting("ZOOM_REDIRECT_URI"):
        return _error_page(f"Invalid redirect: {params.get('redirect_uri') or '(missing)'}")

    def back(error: str) -> Response:
        answer = {"error": error, **({"state": params["state"]} if params.get("state") else {})}
        return redirect(_with_query(params["redirect_uri"], answer))

    if params.get("response_type") != "code":
        return back("unsupported_response_type")
    if params.get("code_challenge") and params.get("code_challenge_method") != "S256":
        return back("invalid_request")
    if params.get("scope"):
        # Kept for tests that want a narrower grant; a real user-managed app sends none.
        scopes = params["scope"].split()
        if not set(scopes) <= grants.ALLOWED_SCOPES:
            return back("invalid_scope")
        return scopes
    with transaction() as conn:
        return registration.app_scopes(conn)


@bp.get("/oauth/authorize")
def authorize() -> Any:
    """The consent page: who signs in, which scopes, Allow or Deny."""
    params = {name: request.args.get(name, "") for name in _AUTH_PARAMS}
    checked = _check_request(params)
    if not isinstance(checked, list):
        return checked
    with transaction() as conn:
        users = directory.all_users(conn)
    return render_template(
        "sandbox/authorize.html",
        app_name=setting("ZOOM_SANDBOX_APP_NAME"),
        scopes=checked,
        users=users,
        params=params,
        selected=request.args.get("login_hint", ""),
    )


@bp.post("/oauth/authorize")
def authorize_decision() -> Any:
    """The consent form's answer: redirect back with a code, or with access_denied."""
    params = {name: request.form.get(name, "") for name in _AUTH_PARAMS}
    checked = _check_request(params)
    if not isinstance(checked, list):
        return checked
    state = {"state": params["state"]} if params["state"] else {}
    if request.form.get("decision") != "allow":
        return redirect(_with_query(params["redirect_uri"], {"error": "access_denied", **state}))
    with transaction() as conn:
        user = directory.get_user(conn, request.form.get("user_id", ""))
        if user is None:
            return _error_page("Choose the Zoom user to sign in as.", code=4709)
        code = grants.issue_code(
            conn,
            client_id=params["client_id"],
            user_id=user["id"],
            redirect_uri=params["redirect_uri"],
            scopes=" ".join(checked),
            code_challenge=params["code_challenge"],
            now_ts=clock.now_ts(conn),
        )
    return redirect(_with_query(params["redirect_uri"], {"code": code, **state}))


def _client_ok() -> bool:
    """HTTP Basic ``client_id:client_secret``, compared in constant time."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return False
    id_ok = hmac.compare_digest(auth.username.encode(), setting("ZOOM_CLIENT_ID").encode())
    secret = (auth.password or "").encode()
    return id_ok & hmac.compare_digest(secret, setting("ZOOM_CLIENT_SECRET").encode())


def _token_body(pair: grants.TokenPair) -> dict[str, Any]:
    ttl = int(setting("ZOOM_SANDBOX_ACCESS_TOKEN_TTL"))
    return {
        "access_token": pair.access_token,
        "token_type": "bearer",
        "refresh_token": pair.refresh_token,
        "expires_in": ttl - 1,
        "scope": pair.scopes,
        "api_url": request.host_url.rstrip("/") + sandbox_state().url_prefix,
    }


@bp.post("/oauth/token")
@fault_switch("token")
def token() -> Response:
    """Exchange a code or rotate a refresh token (form-encoded, Basic client auth)."""
    if not _client_ok():
        return responses.invalid_client()
    grant_type = request.form.get("grant_type", "")
    if grant_type not in ("authorization_code", "refresh_token"):
        return responses.oauth_error("unsupported_grant_type", "unsupported grant type")
    ttls = {
        "access_ttl": int(setting("ZOOM_SANDBOX_ACCESS_TOKEN_TTL")),
        "refresh_ttl": int(setting("ZOOM_SANDBOX_REFRESH_TOKEN_TTL")),
    }
    client_id = setting("ZOOM_CLIENT_ID")
    try:
        if grant_type == "authorization_code":
            with transaction() as conn:
                code_row = grants.claim_code(
                    conn,
                    code=request.form.get("code", ""),
                    client_id=client_id,
                    now_ts=clock.now_ts(conn),
                )
            with transaction() as conn:
                pair = grants.grant_for_code(
                    conn,
                    code_row,
                    redirect_uri=request.form.get("redirect_uri", ""),
                    code_verifier=request.form.get("code_verifier", ""),
                    now_ts=clock.now_ts(conn),
                    **ttls,
                )
        else:
            with transaction() as conn:
                pair = grants.refresh(
                    conn,
                    refresh_token=request.form.get("refresh_token", ""),
                    client_id=client_id,
                    now_ts=clock.now_ts(conn),
                    **ttls,
                )
                bump(conn, "successful_refreshes")
    except grants.GrantError as exc:
        return responses.oauth_error(exc.error, exc.reason)
    return responses.json_response(_token_body(pair), headers={"Cache-Control": "no-store"})


@bp.post("/oauth/revoke")
@fault_switch("revoke")
def revoke() -> Response:
    """Revoke a token (``token`` in form or query): Zoom then uninstalls the app for the
    user and sends ``app_deauthorized``.

    - a working access or refresh token: every grant of that user and app dies, the app
      is removed, and ``app_deauthorized`` follows (``user_data_retention`` "false");
    - an access token past its hour: refused, nothing revoked (Zoom may not accept it; a
      client revokes the refresh token instead, or refreshes first);
    - an unknown token, or one of a grant already dead: success, nothing sent (RFC 7009:
      the caller's goal is met).
    """
    if not _client_ok():
        return responses.invalid_client()
    token_value = request.form.get("token") or request.args.get("token", "")
    if not token_value:
        return responses.oauth_error("invalid_request", "Invalid Token!")
    client_id = setting("ZOOM_CLIENT_ID")
    with transaction() as conn:
        target = grants.revoke_target(
            conn, token=token_value, client_id=client_id, now_ts=clock.now_ts(conn)
        )
        user = directory.get_user(conn, target.grant["user_id"]) if target.grant else None
    if target.kind == "expired_access":
        return responses.oauth_error("invalid_request", "Invalid Token!")
    if target.kind == "live" and user is not None:
        marketplace.uninstall(user, client_id, retain=False, reason="revoked")
    return responses.json_response({"status": "success"})
