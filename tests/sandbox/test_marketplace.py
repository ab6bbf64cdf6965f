"""Removing the app in the sandbox Marketplace, following Zoom's own steps."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urljoin

import requests

from .conftest import ADA, CLIENT_ID, FRONT_DESK, Sandbox, http, parse_forms
from .test_webhooks import verified


def remove_app(sandbox: Sandbox, user_id: str, retain: bool = False) -> requests.Response:
    """Marketplace > Manage > (choose user) > Added Apps > Remove > confirm."""
    front = http.get(sandbox.url("/marketplace"))
    assert "Zoom App Marketplace" in front.text and ">Manage<" in front.text
    manage = http.get(sandbox.url("/marketplace/manage"), params={"user": user_id})
    assert "Added Apps" in manage.text and "Lakesis" in manage.text
    (remove_form,) = [
        f for f in parse_forms(manage.text) if f.get("method") == "get" and "remove" in f["action"]
    ]
    confirm = http.get(urljoin(manage.url, remove_form["action"]), params={"user": user_id})
    assert confirm.status_code == 200 and "Remove Lakesis?" in confirm.text
    (form,) = [f for f in parse_forms(confirm.text) if f.get("method") == "post"]
    checkbox = next(f for f in form["fields"] if f.get("type") == "checkbox")
    assert "checked" not in checkbox, "data retention must default to off"
    data = {"user": user_id, **({checkbox["name"]: checkbox["value"]} if retain else {})}
    return http.post(urljoin(confirm.url, form["action"]), data=data, allow_redirects=False)


def test_added_apps_list_only_users_with_a_live_grant(sandbox: Sandbox) -> None:
    sandbox.connect(ADA)
    assert "Lakesis" in http.get(sandbox.url("/marketplace/manage"), params={"user": ADA}).text
    desk = http.get(sandbox.url("/marketplace/manage"), params={"user": FRONT_DESK}).text
    assert "has not added any apps" in desk
    chooser = http.get(sandbox.url("/marketplace/manage")).text
    assert "Choose a user" in chooser and "front.desk@clinic.zoom.test" in chooser


def test_removing_the_app_revokes_and_sends_app_deauthorized(sandbox: Sandbox) -> None:
    tokens = sandbox.connect(ADA)
    refreshed = sandbox.connect(ADA)  # a second grant by the same user dies too
    answer = remove_app(sandbox, ADA)
    assert answer.status_code == 302 and "removed=1" in answer.headers["Location"]
    after = http.get(urljoin(answer.url, answer.headers["Location"])).text
    assert "The app was removed." in after and "has not added any apps" in after

    for grant in (tokens, refreshed):
        me = sandbox.api("GET", "/users/me", grant["access_token"])
        assert me.status_code == 401 and me.json()["code"] == 124
        dead = sandbox.refresh(grant["refresh_token"])
        assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    # The first grant already died when the second was made (4741); the removal killed
    # the second.
    dead = sandbox.refresh(refreshed["refresh_token"])
    assert dead.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}

    (item,) = sandbox.webhooks.wait_for(1)
    body = verified(item)
    assert body["event"] == "app_deauthorized"
    payload = body["payload"]
    assert set(payload) == {
        "account_id",
        "user_id",
        "client_id",
        "user_data_retention",
        "deauthorization_time",
        "signature",
    }
    assert payload["account_id"] == "sbx-acct-clinic" and payload["user_id"] == ADA
    assert payload["client_id"] == CLIENT_ID and payload["user_data_retention"] == "false"
    assert datetime.fromisoformat(payload["deauthorization_time"].replace("Z", "+00:00"))
    assert len(payload["signature"]) == 64
    assert sandbox.state()["live_grants"] == 0


def test_retention_choice_is_sent_as_true(sandbox: Sandbox) -> None:
    sandbox.connect(FRONT_DESK)
    remove_app(sandbox, FRONT_DESK, retain=True)
    (item,) = sandbox.webhooks.wait_for(1)
    assert json.loads(item["body"])["payload"]["user_data_retention"] == "true"
