"""The overview: a setup checklist until the workspace works, and its status at a glance."""

from __future__ import annotations

from dashboard.extensions import db
from dashboard.models import Workspace
from dashboard.services import api_keys
from dashboard.services.audit import Actor
from tests.booking_builders import add_booking
from tests.zoom_builders import store_connection


def test_a_new_workspace_gets_the_three_steps_with_a_curl_line_for_this_server(client, auth,
                                                                               world):
    auth.sign_in_as(world.admin)
    page = client.get("/").data.decode()  # the test client is http://localhost
    assert "Set up this workspace" in page
    for step in ("Connect Zoom", "Create an API key", "Send the first booking"):
        assert step in page
    assert "curl -s -X POST http://localhost/api/v1/bookings" in page
    assert 'data-copy="curl -s -X POST http://localhost/api/v1/bookings' in page
    assert 'class="is-done"' not in page
    assert ">Not connected<" in page


def test_each_step_is_ticked_when_done_and_the_list_goes_once_all_are(app, client, auth,
                                                                       world):
    auth.sign_in_as(world.admin)
    with app.app_context():
        store_connection(world.acme.id, connected_by_id=world.admin.id)
        api_keys.issue(db.session.get(Workspace, world.acme.id), Actor.of_user(world.admin),
                       "workflow", world.admin.id)
    page = client.get("/").data.decode()
    assert page.count('class="is-done"') == 2 and "curl -s" in page
    with app.app_context():
        add_booking(world.acme.id, "ok-1")
        add_booking(world.acme.id, "bad-1", status="failed", operation="failed")
    page = client.get("/").data.decode()
    assert "Set up this workspace" not in page
    cards = page.split('id="status-cards"')[1].split("</div>")[0]
    assert "<strong>2</strong> bookings" in cards
    assert "<strong>1</strong> needs attention" in cards and "stat-bad" in cards
    assert "/bookings?status=failed" in cards


def test_support_is_told_who_does_the_steps(client, auth, world):
    auth.sign_in_as(world.support)
    page = client.get("/").data.decode()
    assert "an admin connects it under Settings &gt; Integrations" in page
    assert "an admin makes one under Settings &gt; API keys" in page
