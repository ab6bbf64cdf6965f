"""Which fixes a booking offers: one table, which the pages show and the service enforces."""

from __future__ import annotations

import pytest

from dashboard.models import Booking, Meeting
from dashboard.services.booking_actions import ALREADY_ON_ITS_WAY, offered_actions


def _booking(status: str, state: str = "active", zoom_id: int | None = 81200000001) -> Booking:
    booking = Booking(state=state, title="Table booking")
    booking.meeting = Meeting(status=status, zoom_meeting_id=zoom_id)
    return booking


# (meeting status, booking state, Zoom id, open work) -> retry, reschedule, cancel, resync
TABLE = [
    ("scheduled", "active", 1, False, (False, True, True, True)),
    ("pending", "active", None, True, (False, True, True, False)),
    ("failed", "active", None, False, (True, True, True, False)),
    ("failed", "active", 1, True, (False, True, True, True)),
    ("deleted_in_zoom", "active", 1, False, (True, True, True, True)),
    ("started", "active", 1, False, (False, False, True, True)),
    ("ended", "active", 1, False, (False, False, False, True)),
    ("failed", "cancelled", 1, False, (True, False, False, True)),
    ("ended", "cancelled", 1, False, (True, False, False, True)),  # its delete to finish
    ("cancelled", "cancelled", None, False, (False, False, False, False)),
    ("waiting_for_connection", "active", None, False, (False, True, True, False)),
]


@pytest.mark.parametrize(("status", "state", "zoom_id", "open_work", "expected"), TABLE)
def test_each_booking_offers_what_the_table_says(status, state, zoom_id, open_work, expected):
    actions = offered_actions(_booking(status, state, zoom_id), open_operation=open_work)
    offers = (actions.retry, actions.reschedule, actions.cancel, actions.resync)
    assert tuple(offer.allowed for offer in offers) == expected
    for offer in offers:  # every refusal says why, in a sentence
        assert offer.allowed or (offer.reason and offer.reason.endswith("."))


def test_work_on_its_way_is_the_reason_retry_is_not_offered():
    actions = offered_actions(_booking("failed"), open_operation=True)
    assert actions.retry.reason == ALREADY_ON_ITS_WAY


def test_the_row_and_the_booking_page_agree_about_cancel(app, client, auth, world):
    from tests.booking_builders import add_booking

    with app.app_context():
        booking_id = add_booking(world.acme.id, "ended-1", status="ended")
    auth.sign_in_as(world.operator)
    row = client.get(f"/bookings/{booking_id}/row", headers={"HX-Request": "true"})
    page = client.get(f"/bookings/{booking_id}")
    assert ">Cancel</button>" not in row.data.decode()
    assert ">Cancel booking</button>" not in page.data.decode()
    refused = client.post(f"/bookings/{booking_id}/cancel",
                          headers={"HX-Request": "true", "HX-Target": f"booking-{booking_id}"})
    assert refused.status_code == 409 and "has ended" in refused.data.decode()
