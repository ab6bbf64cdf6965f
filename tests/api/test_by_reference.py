"""`/api/v1/bookings/ref:<external_ref>`: the workflow reads (and changes) a booking by its
own reference, in its own workspace only."""

from __future__ import annotations

from tests.api.records import booking_body


def test_a_booking_is_read_back_by_its_external_ref(api):
    made = api.post("bookings", booking_body("crm-1")).get_json()
    response = api.get("bookings/ref:crm-1")
    assert response.status_code == 200
    assert response.get_json() == made
    assert api.get(f"bookings/{made['id']}").get_json() == made


def test_by_ref_reschedule_and_cancel_work_too(api):
    made = api.post("bookings", booking_body("crm-2")).get_json()
    changed = api.patch("bookings/ref:crm-2", {"title": "Follow-up"})
    assert changed.status_code == 200 and changed.get_json()["title"] == "Follow-up"
    cancelled = api.post("bookings/ref:crm-2/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["id"] == made["id"]
    assert cancelled.get_json()["state"] == "cancelled"


def test_unknown_other_workspaces_and_malformed_refs_are_not_found(api, globex_api):
    api.post("bookings", booking_body("crm-3"))
    for path in ("bookings/ref:nope", "bookings/ref:", "bookings/ref:" + "x" * 101,
                 "bookings/ref:bad%00ref"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]
    assert globex_api.get("bookings/ref:crm-3").status_code == 404


def test_the_openapi_document_says_so(api):
    document = api.get("openapi.json").get_json()
    [param] = document["paths"]["/bookings/{booking_id}"]["parameters"]
    assert "ref:" in param["description"]
