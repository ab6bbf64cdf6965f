"""A sandbox "Zoom App Marketplace": Manage > Added Apps > Remove, as Zoom's own steps.

Removing the app revokes every grant the user gave it and sends ``app_deauthorized``.
``/oauth/revoke`` with a working token does the same (Zoom: revoking uninstalls the app),
through ``uninstall`` below.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from flask import Response, redirect, render_template, request, url_for

from . import clock, directory, grants
from .blueprint import bp
from .settings import setting
from .storage import transaction
from .webhooks_out import send_event


def _chosen_user(conn: Any, raw: str | None) -> dict[str, Any] | None:
    return directory.get_user(conn, raw) if raw else None


def deauthorization_payload(
    user: dict[str, Any], client_id: str, retain: bool, now_ts: float
) -> dict[str, Any]:
    """The ``app_deauthorized`` payload.

    ``signature`` follows Zoom's legacy deauthorization field: a hex HMAC-SHA256 over the
    other fields (compact JSON, sorted keys) keyed with the client secret. Receivers are
    expected to trust the request signature header instead.
    """
    moment = clock.to_datetime(now_ts)
    payload = {
        "account_id": user["account_id"],
        "user_id": user["id"],
        "client_id": client_id,
        "user_data_retention": "true" if retain else "false",
        "deauthorization_time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    message = json.dumps(
        payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False
    ).encode()
    secret = str(setting("ZOOM_CLIENT_SECRET")).encode()
    payload["signature"] = hmac.new(secret, message, hashlib.sha256).hexdigest()
    return payload


def uninstall(user: dict[str, Any], client_id: str, *, retain: bool, reason: str) -> int:
    """Remove the app for a user: revoke all their grants of it, then (once committed)
    send ``app_deauthorized``. Returns how many grants died (no event when none)."""
    with transaction() as conn:
        now_ts = clock.now_ts(conn)
        revoked = grants.revoke_user(
            conn, user_id=user["id"], client_id=client_id, now_ts=now_ts, reason=reason
        )
    if revoked:
        send_event("app_deauthorized", deauthorization_payload(user, client_id, retain, now_ts))
    return revoked


@bp.get("/marketplace")
def marketplace() -> str:
    """The Marketplace front page, with its "Manage" link."""
    return render_template("sandbox/marketplace.html")


@bp.get("/marketplace/manage")
def marketplace_manage() -> str:
    """Added Apps of the chosen sandbox user (``?user=<id>``)."""
    client_id = setting("ZOOM_CLIENT_ID")
    with transaction() as conn:
        users = directory.all_users(conn)
        user = _chosen_user(conn, request.args.get("user"))
        added = []
        if user is not None:
            live = grants.live_grants(conn, clock.now_ts(conn), user_id=user["id"])
            added = [g for g in live if g["client_id"] == client_id]
    apps = (
        [
            {
                "client_id": client_id,
                "name": setting("ZOOM_SANDBOX_APP_NAME"),
                "added_at": clock.iso(added[-1]["created_at"]),
            }
        ]
        if added
        else []
    )
    return render_template(
        "sandbox/manage.html",
        users=users,
        user=user,
        apps=apps,
        removed=request.args.get("removed") == "1",
    )


@bp.get("/marketplace/manage/remove")
def marketplace_remove_confirm() -> Any:
    """Confirm removing the app, with the data-retention choice (off by default)."""
    with transaction() as conn:
        user = _chosen_user(conn, request.args.get("user"))
    if user is None:
        return redirect(url_for(".marketplace_manage"))
    return render_template(
        "sandbox/remove_app.html",
        user=user,
        app_name=setting("ZOOM_SANDBOX_APP_NAME"),
        client_id=setting("ZOOM_CLIENT_ID"),
    )


@bp.post("/marketplace/manage/remove")
def marketplace_remove() -> Response:
    """Remove the app: revoke the user's grants and send ``app_deauthorized``."""
    client_id = setting("ZOOM_CLIENT_ID")
    retain = request.form.get("user_data_retention") == "true"
    with transaction() as conn:
        user = _chosen_user(conn, request.form.get("user"))
    if user is None:
        return redirect(url_for(".marketplace_manage"))
    uninstall(user, client_id, retain=retain, reason="removed")
    return redirect(url_for(".marketplace_manage", user=user["id"], removed="1"))
