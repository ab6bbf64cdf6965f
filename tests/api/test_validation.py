"""Bad requests get a 4xx naming what is wrong, never a 500, and write nothing."""

from __future__ import annotations

import io
import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from dashboard.orm import utcnow
from tests.api.api_client import CONTRACT
from tests.api.records import booking_body, counts, snapshot

NOW = utcnow()


def _without(field: str) -> dict:
    body = booking_body()
    del body[field]
    return body


CREATE_CASES = {
    "past start": (booking_body(days=-1), "start_time"),
    "start now-ish": (booking_body(start_time=NOW.isoformat()), "start_time"),
    "start beyond two years": (booking_body(days=800), "start_time"),
    "start without offset": (booking_body(start_time="2030-01-01T10:00:00"), "start_time"),
    "start not a date": (booking_body(start_time="next tuesday"), "start_time"),
    "start out of range": (booking_body(start_time="9999-12-31T23:59:59-05:00"), "start_time"),
    "start before year one": (booking_body(start_time="0001-01-01T00:00:00+01:00"),
                              "start_time"),
    "start a number": (booking_body(start_time=1767225600), "start_time"),
    "unknown time zone": (booking_body(timezone="Mars/Olympus"), "timezone"),
    "time zone wrong case": (booking_body(timezone="europe/lisbon"), "timezone"),
    "duration too short": (booking_body(duration_minutes=4), "duration_minutes"),
    "duration too long": (booking_body(duration_minutes=721), "duration_minutes"),
    "duration fractional": (booking_body(duration_minutes=30.5), "duration_minutes"),
    "duration a string": (booking_body(duration_minutes="30"), "duration_minutes"),
    "duration a boolean": (booking_body(duration_minutes=True), "duration_minutes"),
    "duration huge": (booking_body(duration_minutes=10**40), "duration_minutes"),
    "title too long": (booking_body(title="x" * 201), "title"),
    "title blank": (booking_body(title="   "), "title"),
    "title with control characters": (booking_body(title="a\x00b"), "title"),
    "title a lone surrogate": (booking_body(title="\ud800"), "title"),
    "reference too long": (booking_body(ref="r" * 101), "external_ref"),
    "reference missing": (_without("external_ref"), "external_ref"),
    "reference a number": (booking_body(ref=12), "external_ref"),
    "customer name too long": (booking_body(customer={"name": "n" * 121,
                                                      "email": "a@example.test"}),
                               "customer.name"),
    "customer email invalid": (booking_body(customer={"name": "Ana", "email": "not-an-email"}),
                               "customer.email"),
    "customer email missing": (booking_body(customer={"name": "Ana"}), "customer.email"),
    "customer unknown field": (booking_body(customer={"name": "Ana", "email": "a@example.test",
                                                      "phone": "1"}), "customer.phone"),
    "customer not an object": (booking_body(customer="Ana"), "customer"),
    "customer missing": (_without("customer"), "customer"),
    "host email invalid": (booking_body(host_email="host@"), "host_email"),
    "host email too long": (booking_body(host_email="h" * 250 + "@example.test"),
                            "host_email"),
    "unknown kind": (booking_body(kind="webinar"), "kind"),
    "unknown field": (booking_body(start_url="https://zoom.us/s/1"), "start_url"),
    "body a list": ([booking_body()], "body"),
    "body a string": ("booking", "body"),
}


@pytest.mark.parametrize("body,field", CREATE_CASES.values(), ids=CREATE_CASES.keys())
def test_invalid_create_names_the_field_and_writes_nothing(app, api, body, field):
    before = counts(app)
    response = api.post("bookings", body)
    assert response.status_code == 422
    answer = response.get_json()
    assert field in [error["field"] for error in answer["errors"]], answer
    assert field in answer["error"]
    assert counts(app) == before


def test_every_problem_is_reported_at_once(app, api):
    body = booking_body(timezone="Nowhere", duration_minutes=0, title="")
    fields = {error["field"] for error in api.post("bookings", body).get_json()["errors"]}
    assert fields == {"timezone", "duration_minutes", "title"}


RAW_CASES = {
    "malformed": b'{"external_ref": ',
    "trailing garbage": json.dumps(booking_body()).encode() + b" x",
    "empty": b"",
    "null": b"null",
    "not utf-8": b'{"title": "\xff"}',
    "NaN": json.dumps(booking_body()).replace("30", "NaN").encode(),
    "deeply nested": b"[" * 30_000 + b"]" * 30_000,
}


@pytest.mark.parametrize("raw", RAW_CASES.values(), ids=RAW_CASES.keys())
def test_body_that_is_not_json_is_422_on_body(app, api, raw):
    before = counts(app)
    response = api.post("bookings", data=raw, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "body"
    assert counts(app) == before


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_body_not_sent_as_json_is_415(app, api, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    response = api.post("bookings", data=json.dumps(booking_body()), **kwargs)
    assert response.status_code == 415
    assert counts(app)["bookings"] == 0


def test_json_with_a_charset_or_a_json_suffix_is_json(app, api):
    for number, content_type in enumerate(("application/json; charset=utf-8",
                                           "application/merge-patch+json")):
        response = api.post("bookings", data=json.dumps(booking_body(f"r{number}")),
                            content_type=content_type)
        assert response.status_code == 201


def test_body_over_64_kib_is_413(app, api):
    body = booking_body(title="x" * (64 * 1024))
    response = api.post("bookings", body)
    assert response.status_code == 413
    assert counts(app)["bookings"] == 0


def _chunked_post(app, key: str, raw: bytes):
    environ = EnvironBuilder(
        path="/api/v1/bookings", method="POST", content_type="application/json",
        input_stream=io.BytesIO(raw),
        headers={"Authorization": f"Bearer {key}", "Transfer-Encoding": "chunked"},
    ).get_environ()
    # As a server hands over a chunked request: no size up front, the stream ends itself.
    # (The test client would rebuild this environ, so the app is called directly.)
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    body, status, headers = run_wsgi_app(app, environ, buffered=True)
    response = app.response_class(b"".join(body), status, headers)
    CONTRACT.check("POST", "/api/v1/bookings", response)
    return response


def test_chunked_body_is_read_and_over_64_kib_is_413(app, acme_key):
    assert _chunked_post(app, acme_key, json.dumps(booking_body()).encode()).status_code == 201
    oversize = json.dumps(booking_body("r2", title="x" * (64 * 1024))).encode()
    assert _chunked_post(app, acme_key, oversize).status_code == 413
    assert counts(app)["bookings"] == 1


@pytest.fixture
def booking(api):
    return api.post("bookings", booking_body()).get_json()


CHANGE_CASES = {
    "past start": ({"start_time": "2001-01-01T10:00:00Z"}, "start_time"),
    "unknown time zone": ({"timezone": "Atlantis/Capital"}, "timezone"),
    "duration out of range": ({"duration_minutes": 0}, "duration_minutes"),
    "title too long": ({"title": "t" * 201}, "title"),
    "title null": ({"title": None}, "title"),
    "host email invalid": ({"host_email": "@@"}, "host_email"),
    "unknown field": ({"customer": {"name": "Bo"}}, "customer"),
    "kind cannot change": ({"kind": "booking"}, "kind"),
    "empty object": ({}, "body"),
    "not an object": ([{"title": "x"}], "body"),
}


@pytest.mark.parametrize("body,field", CHANGE_CASES.values(), ids=CHANGE_CASES.keys())
def test_invalid_reschedule_names_the_field_and_changes_nothing(app, api, booking, body, field):
    before = snapshot(app, booking["id"])
    response = api.patch(f"bookings/{booking['id']}", body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert snapshot(app, booking["id"]) == before


def test_reschedule_body_must_be_json(app, api, booking):
    before = snapshot(app, booking["id"])
    assert api.patch(f"bookings/{booking['id']}", data="title=x",
                     content_type="application/x-www-form-urlencoded").status_code == 415
    assert api.patch(f"bookings/{booking['id']}", data=b"{", content_type="application/json"
                     ).status_code == 422
    assert api.patch(f"bookings/{booking['id']}", {"title": "x" * 70_000}).status_code == 413
    assert snapshot(app, booking["id"]) == before
