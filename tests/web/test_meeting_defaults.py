"""Settings > Integrations > Meeting defaults: who may change them, validation, audit."""

from __future__ import annotations

import re

import pytest

from dashboard.extensions import db
from dashboard.models import AuditEvent, MeetingDefaults, Workspace
from dashboard.services.meeting_defaults import defaults_for

HX = {"HX-Request": "true"}
SAVED = {"waiting_room": "y", "mute_upon_entry": "y", "host_video": "y",
         "default_duration_minutes": "30", "timezone": "UTC"}  # Lakesis' defaults


def _audit(app) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(e.action, e.details) for e in db.session.scalars(
            db.select(AuditEvent).order_by(AuditEvent.id))]


def test_admin_sees_the_form_with_the_recording_note(client, auth, world):
    auth.sign_in_as(world.admin)
    page = client.get("/settings/integrations").data.decode()
    assert "Meeting defaults" in page and "Nothing here turns on recording" in page
    assert re.search(r'<input checked id="waiting_room" name="waiting_room" role="switch"', page)
    assert re.search(r'<input id="join_before_host" name="join_before_host" role="switch"', page)
    assert 'value="30"' in page and 'value="UTC"' in page


def test_admin_changes_defaults_and_each_change_is_audited(app, client, auth, world):
    auth.sign_in_as(world.admin)
    data = {**SAVED, "join_before_host": "y", "default_duration_minutes": "45",
            "timezone": " Europe/Lisbon "}
    del data["waiting_room"]
    response = client.post("/settings/integrations/meeting-defaults", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/settings/integrations#meeting-defaults")
    with app.app_context():
        saved = defaults_for(world.acme.id)
        assert (saved.waiting_room, saved.join_before_host, saved.default_duration_minutes) == (
            False, True, 45)
        assert db.session.get(Workspace, world.acme.id).timezone == "Europe/Lisbon"
    assert _audit(app) == [("meeting_defaults.updated", {
        "waiting_room": False, "join_before_host": True, "default_duration_minutes": 45,
        "timezone": "Europe/Lisbon"})]
    page = client.get("/settings/integrations").data.decode()
    assert "Meeting defaults saved" in page and 'value="Europe/Lisbon"' in page


def test_saving_the_same_values_changes_and_audits_nothing(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/integrations/meeting-defaults", data=SAVED, headers=HX)
    assert response.status_code == 200 and "Nothing changed." in response.data.decode()
    assert _audit(app) == []
    with app.app_context():
        assert db.session.get(MeetingDefaults, world.acme.id) is None


def test_htmx_save_answers_the_section_with_an_out_of_band_flash(client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/integrations/meeting-defaults",
                           data={**SAVED, "participant_video": "y"}, headers=HX)
    body = response.data.decode()
    assert body.startswith('<article id="meeting-defaults"')
    assert 'hx-swap-oob="true"' in body and "participant video on" in body
    assert response.headers["Vary"].startswith("HX-Request")


@pytest.mark.parametrize(("fields", "message"), [
    ({"default_duration_minutes": "4"}, "Must be between 5 and 720 minutes."),
    ({"default_duration_minutes": "721"}, "Must be between 5 and 720 minutes."),
    ({"default_duration_minutes": "lots"}, "Not a valid integer value."),
    ({"timezone": "Europe/Atlantis"}, "Must be a time zone such as Europe/Lisbon, or a city"),
    ({"timezone": ""}, "Choose a time zone."),
])
def test_bad_values_are_422_beside_the_field_and_nothing_is_saved(app, client, auth, world,
                                                                   fields, message):
    auth.sign_in_as(world.admin)
    for headers in ({}, HX):
        response = client.post("/settings/integrations/meeting-defaults",
                               data={**SAVED, "join_before_host": "y", **fields},
                               headers=headers)
        assert response.status_code == 422
        assert f'class="field-error">{message}' in response.data.decode()
    assert _audit(app) == []


def test_operator_allowed_to_manage_integrations_may_change_them(app, client, auth, world):
    with app.app_context():
        world.member(world.operator).manages_integrations = True
        db.session.commit()
    auth.sign_in_as(world.operator)
    response = client.post("/settings/integrations/meeting-defaults",
                           data={**SAVED, "default_duration_minutes": "60"})
    assert response.status_code == 302


@pytest.mark.parametrize("who", ["operator", "support"])
def test_others_see_the_defaults_read_only_and_are_refused(app, client, auth, world, who):
    auth.sign_in_as(getattr(world, who))
    page = client.get("/settings/integrations").data.decode()
    assert 'id="meeting-defaults-view"' in page and "Save meeting defaults" not in page
    response = client.post("/settings/integrations/meeting-defaults",
                           data={**SAVED, "default_duration_minutes": "60"})
    assert response.status_code == 403
    assert _audit(app) == []


def test_saving_needs_the_csrf_token(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/integrations/meeting-defaults", data=SAVED, csrf=False)
    assert response.status_code == 400


def test_join_before_host_with_the_waiting_room_is_explained_not_saved(app, client, auth, world):
    """Zoom ignores join_before_host while waiting_room is on (zoom/README.md, Corrections)."""
    auth.sign_in_as(world.admin)
    page = client.get("/settings/integrations").data.decode()
    assert "Zoom ignores this while the waiting room is on" in page

    response = client.post("/settings/integrations/meeting-defaults",
                           data={**SAVED, "join_before_host": "y"}, headers=HX)

    assert response.status_code == 422
    assert "Zoom ignores join before host while the waiting room is on" in response.data.decode()
    assert _audit(app) == []


@pytest.mark.parametrize(("typed", "stored"), [
    ("Lisbon", "Europe/Lisbon"), ("new york", "America/New_York"), ("europe/berlin",
                                                                    "Europe/Berlin"),
    ("Sao_Paulo", "America/Sao_Paulo"), ("utc", "UTC")])
def test_a_city_or_a_zone_in_any_case_is_taken_as_its_iana_zone(app, client, auth, world, typed,
                                                                 stored):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/integrations/meeting-defaults",
                           data={**SAVED, "timezone": typed})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Workspace, world.acme.id).timezone == stored
    page = client.get("/settings/integrations").data.decode()
    assert '<option value="Europe/Lisbon">Lisbon</option>' in page  # the field's suggestions
