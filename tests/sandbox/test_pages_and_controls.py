"""The sandbox's own pages and controls, and how it mounts in a host app."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from dashboard.sandbox import init_app, shutdown

from .conftest import Sandbox, http, parse_forms

SANDBOX_DIR = Path(__file__).resolve().parents[2] / "dashboard" / "sandbox"


def test_templates_have_no_inline_script_or_style() -> None:
    for template in (SANDBOX_DIR / "templates").rglob("*.html"):
        text = template.read_text()
        assert "<script" not in text, template
        assert "<style" not in text and not re.search(r"\sstyle=", text), template
        assert not re.search(r"\son[a-z]+=", text), f"inline event handler in {template}"


def test_console_lists_users_grants_meetings_and_switches(sandbox: Sandbox, token: str) -> None:
    meeting = sandbox.create_meeting(token)
    page = http.get(sandbox.url("/"))
    assert page.status_code == 200
    assert "<h1>Zoom sandbox</h1>" in page.text and "not Zoom" in page.text
    assert "dr.ada@clinic.zoom.test" in page.text and str(meeting["id"]) in page.text
    assert "Marketplace" in page.text
    css = http.get(sandbox.url("/static/sandbox.css"))
    assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]
    actions = {form["action"] for form in parse_forms(page.text)}
    assert any(action.endswith(f"/console/meetings/{meeting['id']}/start") for action in actions)


def test_console_forms_arm_faults_move_clock_and_start_meetings(
    sandbox: Sandbox, token: str
) -> None:
    meeting = sandbox.create_meeting(token)
    armed = http.post(
        sandbox.url("/console/faults"),
        data={"endpoint": "users_me", "mode": "error_503", "count": "1", "delay": "0"},
    )
    assert armed.status_code == 200 and "Armed error_503 on users_me." in armed.text
    assert sandbox.api("GET", "/users/me", token).status_code == 503
    bad = http.post(sandbox.url("/console/faults"), data={"endpoint": "x", "mode": "slow"})
    assert "Fault not armed" in bad.text
    http.post(sandbox.url("/console/clock"), data={"advance_seconds": "3600"})
    assert sandbox.state()["clock_offset_seconds"] == 3600
    http.post(sandbox.url("/console/clock"), data={"reset": "1"})
    assert sandbox.state()["clock_offset_seconds"] == 0
    started = http.post(sandbox.url(f"/console/meetings/{meeting['id']}/start"))
    assert f"Meeting {meeting['id']} started." in started.text
    assert sandbox.webhooks.events()[-1] == "meeting.started"
    http.post(sandbox.url("/console/reset"))
    assert sandbox.state()["meetings"] == {"waiting": 0, "started": 0, "finished": 0, "deleted": 0}


def test_control_clock_and_reset(sandbox: Sandbox, token: str) -> None:
    moved = sandbox.control("POST", "/clock", json={"advance_seconds": 90}).json()
    assert moved["offset_seconds"] == 90
    assert sandbox.control("POST", "/clock", json={"reset": True}).json()["offset_seconds"] == 0
    sandbox.create_meeting(token)
    assert sandbox.state()["meetings"]["waiting"] == 1
    assert sandbox.control("POST", "/reset").json() == {"status": "reset"}
    state = sandbox.state()
    assert state["live_grants"] == 0 and state["meetings"]["waiting"] == 0
    assert sandbox.api("GET", "/users/me", token).json()["message"] == "Invalid access token."
    assert sandbox.connect()["access_token"]  # seeded users survive a reset


def test_control_start_unknown_meeting_is_404(sandbox: Sandbox) -> None:
    answer = sandbox.control("POST", "/meetings/12345678901/start")
    assert answer.status_code == 404 and "does not exist" in answer.json()["error"]


def test_init_app_mounts_on_a_host_app_and_exempts_csrf(tmp_path: Path) -> None:
    exempted = []

    class FakeCsrf:
        def exempt(self, view: object) -> None:
            exempted.append(view)

    host = Flask("host_app", instance_path=str(tmp_path / "instance"))
    host.extensions["csrf"] = FakeCsrf()
    init_app(host)
    try:
        assert [bp.name for bp in exempted] == ["zoom_sandbox"]
        assert (tmp_path / "instance" / "zoom_sandbox.db").exists()
        client = host.test_client()
        assert client.get("/zoom-sandbox/marketplace").status_code == 200
        assert client.get("/zoom-sandbox/v2/users/me").json["code"] == 124
    finally:
        shutdown(host)
