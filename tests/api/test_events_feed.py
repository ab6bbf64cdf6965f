"""GET /api/v1/events: the pull feed, in order, cursor-paged, the key's workspace only,
the same envelopes the webhooks carry (every answer checked against the OpenAPI document
by the client)."""

from __future__ import annotations

import json

import pytest

from dashboard.extensions import db
from dashboard.models import Event
from dashboard.services import booking_events, webhook_delivery


def _record(app, workspace_id: int, count: int) -> list[str]:
    with app.app_context():
        keys = [booking_events.record(workspace_id, "connection.disconnected",
                                      {"reason": f"r{n}"}).key for n in range(count)]
        db.session.commit()
        return keys


def test_pages_through_every_event_in_order_without_overlap(app, api, world):
    mine = _record(app, world.acme.id, 7)
    _record(app, world.globex.id, 3)
    seen, after = [], None
    for _ in range(10):
        response = api.get("events", query_string={"limit": 3, **(
            {"after": after} if after else {})})
        assert response.status_code == 200
        body = response.get_json()
        seen += [event["id"] for event in body["data"]]
        after = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == mine
    # caught up: the same cursor again, nothing new, and the cursor stays put
    again = api.get("events", query_string={"after": after}).get_json()
    assert again == {"data": [], "next_cursor": after, "has_more": False}
    later = _record(app, world.acme.id, 1)
    assert [e["id"] for e in api.get("events", query_string={"after": after}
                                     ).get_json()["data"]] == later


def test_an_event_reads_as_its_webhook_body(app, api, world):
    _record(app, world.acme.id, 1)
    [event] = api.get("events").get_json()["data"]
    with app.app_context():
        row = db.session.scalar(db.select(Event))
        assert json.loads(webhook_delivery.body_of(row)) == event
    assert event["type"] == "connection.disconnected" and event["data"] == {"reason": "r0"}


@pytest.mark.parametrize(("query", "field"), [
    ({"after": "abc"}, "after"), ({"after": "-1"}, "after"), ({"after": "9" * 30}, "after"),
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "ten"}, "limit"),
])
def test_bad_parameters_are_refused_by_name(api, world, query, field):
    response = api.get("events", query_string=query)
    assert response.status_code == 422
    assert [error["field"] for error in response.get_json()["errors"]] == [field]


def test_the_feed_needs_a_key(api, world):
    assert api.get("events", key=None).status_code == 401
