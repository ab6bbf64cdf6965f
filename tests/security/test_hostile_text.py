"""Hostile text in every API field and every form: refused with a 4xx or kept as text,
always shown escaped, and never sent to Zoom with invisible or control characters in it.

The strings are ``HOSTILE`` (tests/security/conftest.py): markup, template and SQL
fragments, log format specifiers, CR/LF, bidi overrides, zero-width characters, C1
controls and NUL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from markupsafe import escape

from dashboard.extensions import db
from dashboard.models import Booking
from dashboard.orm import utcnow
from tests.booking_builders import add_booking, drain
from tests.security.conftest import (
    HOSTILE,
    INVISIBLE,
    hostile_params,
    issue_key,
    unescaped_markup,
)
from tests.zoom_builders import store_connection

MARKUP = {"script", "attribute", "single-quote"}
API_FIELDS = ["external_ref", "title", "customer.name", "customer.email", "host_email",
              "timezone"]


def _future(days: int = 3) -> str:
    return (utcnow() + timedelta(days=days)).replace(microsecond=0).isoformat()


def _body(field: str, text: str) -> dict:
    body = {"external_ref": "hostile-1", "title": "Consultation", "start_time": _future(),
            "duration_minutes": 30, "timezone": "Europe/Lisbon",
            "customer": {"name": "Ana Silva", "email": "ana@example.test"}}
    if field.startswith("customer."):
        body["customer"][field.split(".")[1]] = text
    else:
        body[field] = text
    return body


def _api(app) -> FlaskClient:
    return FlaskClient(app, app.response_class, use_cookies=False)


def _pages(client, booking_id: int) -> dict[str, str]:
    """Every page a member sees the booking on, as text."""
    htmx = {"HX-Request": "true"}
    urls = {"overview": ("/", {}), "bookings": ("/bookings", {}),
            "search": ("/bookings?q=Ana", {}),
            "detail": (f"/bookings/{booking_id}", {}),
            "row": (f"/bookings/{booking_id}/row", htmx),
            "edit": (f"/bookings/{booking_id}/reschedule", htmx),
            "health": ("/health", {}), "audit": ("/audit", {})}
    pages = {}
    for name, (url, headers) in urls.items():
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = response.get_data(as_text=True)
    return pages


def _assert_escaped(app, pages: dict[str, str], text: str) -> None:
    for name, page in pages.items():
        assert not unescaped_markup(page, text), f"{name} shows {text!r} as markup"
        assert app.secret_key not in page


@pytest.fixture
def connected(app, world, zoom_recorder):
    """acme, connected to a recorded Zoom; its admin signed in."""
    with app.app_context():
        store_connection(world.acme.id)
    return world


@pytest.mark.parametrize("text", hostile_params())
@pytest.mark.parametrize("field", API_FIELDS)
def test_hostile_text_in_the_api_is_refused_or_kept_escaped_and_clean_for_zoom(
        app, client, auth, connected, zoom_recorder, field, text):
    key = issue_key(app, connected.acme.id)
    response = _api(app).post("/api/v1/bookings", json=_body(field, text),
                              headers={"Authorization": f"Bearer {key}"})
    assert response.status_code in (201, 422), response.data[:300]
    assert response.is_json
    if response.status_code == 422:
        assert response.get_json()["errors"][0]["field"] == field
        return
    with app.app_context():
        booking_id = db.session.scalars(db.select(Booking.id)).one()
    drain(app)
    auth.sign_in_as(connected.admin)
    _assert_escaped(app, _pages(client, booking_id), text)
    for sent in zoom_recorder.texts():
        assert not INVISIBLE.search(sent), f"sent to Zoom: {sent!r}"


@pytest.mark.parametrize("text", hostile_params())
def test_hostile_titles_in_a_reschedule_never_reach_zoom_unclean(app, client, auth, connected,
                                                                zoom_recorder, text):
    key = issue_key(app, connected.acme.id)
    api = _api(app)
    headers = {"Authorization": f"Bearer {key}"}
    created = api.post("/api/v1/bookings", json=_body("title", "Consultation"), headers=headers)
    booking = created.get_json()
    drain(app)
    response = api.patch(f"/api/v1/bookings/{booking['id']}", json={"title": text},
                         headers=headers)
    assert response.status_code in (200, 422), response.data[:300]
    drain(app)
    for sent in zoom_recorder.texts():
        assert not INVISIBLE.search(sent), f"sent to Zoom: {sent!r}"
    if response.status_code == 200:
        with app.app_context():
            booking_id = db.session.scalars(db.select(Booking.id)).one()
        auth.sign_in_as(connected.admin)
        _assert_escaped(app, _pages(client, booking_id), text)


@pytest.mark.parametrize("text", [pytest.param(HOSTILE[name], id=name) for name in MARKUP])
def test_markup_kept_as_text_is_shown_as_text(app, client, auth, connected, text):
    """The escaping rows above prove something only if the text is on the page at all."""
    key = issue_key(app, connected.acme.id)
    response = _api(app).post("/api/v1/bookings", json=_body("title", text),
                              headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201
    with app.app_context():
        booking_id = db.session.scalars(db.select(Booking.id)).one()
    auth.sign_in_as(connected.admin)
    pages = _pages(client, booking_id)
    for name in ("bookings", "detail", "row"):
        assert str(escape(text)) in pages[name], name


# --- the dashboard's forms -------------------------------------------------------------

def _reschedule_form(text: str) -> dict:
    day = (utcnow() + timedelta(days=4)).date().isoformat()
    return {"date": day, "time": "10:00", "duration_minutes": "30", "timezone": text}


#: (method, url with {booking}, the form with the hostile text in it, needs a booking)
FORMS = {
    "login-email": ("POST", "/login", lambda t: {"email": t, "password": "x" * 12}),
    "member-email": ("POST", "/settings/members", lambda t: {"email": t, "role": "operator"}),
    "member-name": ("POST", "/settings/members",
                    lambda t: {"email": "new.person@acme.test", "name": t, "role": "operator",
                               "password": "a long enough password"}),
    "member-role": ("POST", "/settings/members",
                    lambda t: {"email": "new.person@acme.test", "role": t}),
    "api-key-name": ("POST", "/settings/api-keys", lambda t: {"name": t}),
    "webhook-url": ("POST", "/settings/webhooks",
                    lambda t: {"url": t, "event_types": "meeting.ready"}),
    "defaults-timezone": ("POST", "/settings/integrations/meeting-defaults",
                          lambda t: {"default_duration_minutes": "30", "timezone": t}),
    "defaults-duration": ("POST", "/settings/integrations/meeting-defaults",
                          lambda t: {"default_duration_minutes": t, "timezone": "UTC"}),
    "reschedule-timezone": ("POST", "/bookings/{booking}/reschedule", _reschedule_form),
    "reschedule-date": ("POST", "/bookings/{booking}/reschedule",
                        lambda t: {**_reschedule_form("UTC"), "date": t}),
    "workspace-switch": ("POST", "/workspaces/switch", lambda t: {"workspace_id": t}),
    "bookings-search": ("GET", "/bookings", lambda t: {"q": t}),
    "bookings-status": ("GET", "/bookings", lambda t: {"status": t}),
    "bookings-since": ("GET", "/bookings", lambda t: {"since": t}),
    "audit-actor": ("GET", "/audit", lambda t: {"actor": t}),
    "audit-action": ("GET", "/audit", lambda t: {"action": t}),
}


#: Where what a form keeps is listed afterwards.
SHOWN_ON = {"member-email": "/settings/members", "member-name": "/settings/members",
            "api-key-name": "/settings/api-keys", "webhook-url": "/settings/webhooks",
            "defaults-timezone": "/settings/integrations",
            "reschedule-timezone": "/bookings", "member-role": "/audit"}


@pytest.mark.parametrize("text", hostile_params())
@pytest.mark.parametrize("form", list(FORMS))
def test_hostile_text_in_forms_is_refused_or_kept_and_always_escaped(app, client, auth, world,
                                                                    form, text):
    method, url, fields = FORMS[form]
    with app.app_context():
        booking = add_booking(world.acme.id, "hostile-form")
    if form != "login-email":
        auth.sign_in_as(world.admin)
    url = url.format(booking=booking)
    if method == "GET":
        response = client.get(url, query_string=fields(text))
    else:
        response = client.post(url, data=fields(text))
    assert response.status_code < 500, response.data[:300]
    answer = response.get_data(as_text=True)
    assert not unescaped_markup(answer, text)
    assert app.secret_key not in answer
    if form in SHOWN_ON:  # what was kept, where it is listed
        shown = client.get(SHOWN_ON[form]).get_data(as_text=True)
        assert not unescaped_markup(shown, text), SHOWN_ON[form]
