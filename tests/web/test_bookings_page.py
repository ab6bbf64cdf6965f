"""The bookings page: filters, pages, live rows, and an operator's fixes for one booking."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from dashboard.bookings.forms import BookingFilterForm
from dashboard.extensions import db
from dashboard.models import AuditEvent, Booking, Meeting, Operation, Workspace
from dashboard.orm import utcnow
from tests.booking_builders import add_booking

HX = {"HX-Request": "true"}


def hx_row(booking_id: int) -> dict[str, str]:
    return {**HX, "HX-Target": f"booking-{booking_id}"}


@pytest.fixture
def booked(app, world):
    """Acme with a scheduled, a pending and a failed booking; globex with one of its own."""
    with app.app_context():
        ids = {
            "scheduled": add_booking(world.acme.id, "ref-sched", title="Follow-up with Bea",
                                     customer="Bea Costa", zoom_id=81200000001),
            "pending": add_booking(world.acme.id, "ref-pend", title="First visit Carl",
                                   customer="Carl Dias", status="pending",
                                   operation="queued"),
            "failed": add_booking(world.acme.id, "ref-fail", title="Review with Dina",
                                  customer="Dina Reis", status="failed", operation="dead",
                                  last_error="Gave up after 8 attempts: Zoom is unavailable"),
            "foreign": add_booking(world.globex.id, "ref-globex", title="Globex secret"),
        }
    return ids


def stored(app, booking_id: int) -> Booking:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        db.session.expunge_all()
        return booking


def open_ops(app, booking_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(Operation.kind).filter_by(
            booking_id=booking_id, state="queued").order_by(Operation.id)))


def test_support_sees_bookings_with_labels_links_and_no_buttons(client, auth, world, booked):
    auth.sign_in_as(world.support)
    response = client.get("/bookings")
    assert response.status_code == 200
    page = response.data.decode()
    for text in ("Follow-up with Bea", "Bea Costa", "ref-sched", "Scheduled", "In sync",
                 "Not in Zoom yet", "Queued", "Failed", "https://zoom.us/j/81200000001",
                 "Gave up after 8 attempts", "1 to 3 of 3"):
        assert text in page
    assert "Globex secret" not in page
    for button in ("Retry", "Reschedule", "Cancel", "Re-sync"):
        assert f">{button}</" not in page
    assert 'src="/static/copy.js"' in page
    menu = client.get(f"/bookings/{booked['scheduled']}/menu", headers=HX).data.decode()
    assert "data-copy=" in menu and "Open booking" in menu
    for item in ("Reschedule", "Re-sync", "Cancel booking"):
        assert item not in menu


def test_times_show_on_the_workspace_clock(app, client, auth, world):
    with app.app_context():
        db.session.get(Workspace, world.acme.id).timezone = "Asia/Tokyo"
        db.session.commit()
        start = (utcnow() + timedelta(days=3)).replace(hour=1, minute=30, second=0,
                                                       microsecond=0)
        add_booking(world.acme.id, "tokyo", start=start)
    auth.sign_in_as(world.operator)
    page = client.get("/bookings").data.decode()
    assert "(Asia/Tokyo)" in page
    local = start + timedelta(hours=9)
    assert re.search(rf"<td>(<input [^>]+>)?{local:%a %d %b %Y} <span>{local:%H:%M} ", page)


def _poll_url(page: str) -> str:
    found = re.search(r'id="live-poll"[^>]*hx-get="([^"]+)"', page)
    assert found, "the table has no live poll"
    return found.group(1).replace("&amp;", "&")


def test_the_table_polls_once_for_all_its_rows_and_faster_while_work_is_on_its_way(
        client, auth, world, booked):
    auth.sign_in_as(world.operator)
    page = client.get("/bookings").data.decode()
    assert "every 2s" not in page and page.count('id="live-poll"') == 1
    assert re.findall(r'<tbody id="booking-(\d+)" class="booking is-live"', page) == [
        str(booked["pending"])]
    assert 'data-every="2"' in page
    poll = _poll_url(page)
    assert all(f"{booked[k]}" in poll.split("ids=")[1] for k in ("scheduled", "pending"))


def test_a_poll_answers_only_the_rows_that_changed_and_new_bookings(app, client, auth, world,
                                                                   booked):
    from dashboard.models import Meeting

    with app.app_context():  # the rows were made an hour ago, not within the poll's overlap
        for model in (Booking, Meeting, Operation):
            db.session.execute(db.update(model).values(updated_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    auth.sign_in_as(world.operator)
    poll = _poll_url(client.get("/bookings").data.decode())
    quiet = client.get(poll, headers=HX)
    assert quiet.status_code == 200 and quiet.headers["Vary"].startswith("HX-Request")
    assert "<tbody" not in quiet.data.decode() and "new booking" not in quiet.data.decode()
    later = re.sub(r"since=[\d.]+", f"since={utcnow().timestamp() + 60:.3f}", poll)
    assert "<tbody" not in client.get(later, headers=HX).data.decode()
    with app.app_context():
        booking = db.session.get(Booking, booked["pending"])
        booking.meeting.status = "scheduled"
        booking.meeting.zoom_meeting_id = 81200000077
        db.session.execute(db.update(Operation).filter_by(booking_id=booking.id)
                           .values(state="succeeded"))
        db.session.commit()
        add_booking(world.acme.id, "ref-new", title="Arrived just now")
        add_booking(world.globex.id, "ref-globex-new", title="Not acme's")
    body = client.get(poll, headers=HX).data.decode()
    rows = re.findall(r'<tbody id="booking-(\d+)"[^>]*hx-swap-oob="true"', body)
    assert rows == [str(booked["pending"])]
    assert "Scheduled" in body and "In sync" in body and "is-live" not in body
    assert "1 new booking." in body and "Arrived just now" not in body
    assert 'id="live-poll"' in body and 'data-every="5"' in body  # nothing in flight now
    assert "Globex" not in body


@pytest.mark.parametrize("query", ["ids=1.x&after=0&since=1", "ids=1&since=1",
                                   "ids=1&after=0&since=1e400", "ids=1&after=0"])
def test_a_malformed_poll_is_a_400(client, auth, world, booked, query):
    auth.sign_in_as(world.operator)
    assert client.get(f"/bookings/live?{query}", headers=HX).status_code == 400


def test_a_poll_never_answers_another_workspaces_rows(client, auth, world, booked):
    auth.sign_in_as(world.operator)
    body = client.get(f"/bookings/live?ids={booked['foreign']}&after=0&since=0",
                      headers=HX).data.decode()
    assert "Globex secret" not in body and "<tbody" not in body


def test_a_retrying_booking_shows_its_meeting_and_its_sync_apart(app, client, auth, world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "retrying", status="pending",
                                 operation="queued", zoom_id=81200000055)
        db.session.execute(db.update(Operation).values(
            attempts=3, next_attempt_at=utcnow() + timedelta(seconds=40)))
        db.session.commit()
    auth.sign_in_as(world.operator)
    row = client.get(f"/bookings/{booking_id}/row", headers=HX).data.decode()
    assert re.search(rf'id="status-{booking_id}">Scheduled<', row)
    assert re.search(rf'id="sync-{booking_id}">Retrying<', row)
    assert "attempt 4 of 8, next try" in row and 'class="countdown"' in row


def test_work_parked_until_midnight_does_not_poll(app, client, auth, world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "parked", status="pending", operation="queued")
        db.session.execute(db.update(Operation).values(
            next_attempt_at=utcnow() + timedelta(hours=5)))
        db.session.commit()
    auth.sign_in_as(world.operator)
    assert "is-live" not in client.get(f"/bookings/{booking_id}/row", headers=HX).data.decode()


def test_filters_by_status_search_and_dates(app, client, auth, world, booked):
    auth.sign_in_as(world.operator)
    page = client.get("/bookings?status=failed").data.decode()
    assert "Review with Dina" in page and "Follow-up with Bea" not in page
    page = client.get("/bookings?q=carl").data.decode()
    assert "First visit Carl" in page and "Review with Dina" not in page
    page = client.get("/bookings?q=REF-SCHED").data.decode()
    assert "Follow-up with Bea" in page and "First visit Carl" not in page
    today = utcnow().date()
    page = client.get(f"/bookings?since={today}&until={today}").data.decode()
    assert "No bookings match these filters." in page


def test_htmx_filter_answers_the_table_alone_and_varies_on_hx_request(client, auth, world,
                                                                      booked):
    auth.sign_in_as(world.support)
    response = client.get("/bookings?status=scheduled", headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    body = response.data.decode()
    assert body.lstrip().startswith('<figure class="table-wrap"')
    assert "<html" not in body and "Follow-up with Bea" in body
    assert 'id="booking-filters"' in body and 'hx-swap-oob="true"' in body
    assert "HX-Request" in client.get("/bookings").headers["Vary"]


@pytest.mark.parametrize(("query", "message"), [
    ("status=bogus", "Not a valid choice"),
    ("since=2026-13-45", "Not a valid date value"),
    ("since=2030-05-02&until=2030-05-01", "Must be on or after the From date."),
    ("cursor=garbage", "The page cursor is not valid."),
    ("status=scheduled&cursor=1_x", "The page cursor is not valid."),
    ("q=" + "x" * 101, "Field cannot be longer than 100 characters."),
])
def test_bad_filters_get_422_with_the_message_beside_the_field(client, auth, world, booked,
                                                                query, message):
    auth.sign_in_as(world.operator)
    for headers in ({}, HX):
        response = client.get(f"/bookings?{query}", headers=headers)
        assert response.status_code == 422
        assert message in response.data.decode()
        assert "Globex secret" not in response.data.decode()


_BY_WIDGET = """{% from "macros.html" import field %}
{{- field(form.status) }}{{ field(form.since) }}{{ field(form.until) }}{{ field(form.q) }}
{{- form.sort }}{{ field(form.sync) }}{{ field(form.window) }}"""
_BY_HAND = """{% from "macros.html" import input, input_field, select_field %}
{{- select_field(form.status) }}{{ input_field(form.since) }}{{ input_field(form.until) }}
{{- input_field(form.q, type="search", placeholder="Title") }}{{ input(form.sort) }}
{{- select_field(form.sync) }}{{ select_field(form.window) }}"""


@pytest.mark.parametrize("query", [
    {}, {"status": "", "sort": "-start", "sync": "failed", "window": "7d"},
    {"status": "bogus", "since": "2026-13-45", "sync": "lost", "window": "<b>"},
    {"since": "2030-05-02", "until": "2030-05-01", "status": "cancelled"},
    {"q": "<script>alert('x')</script>&\"", "sort": "\"><i>"}, {"q": "x" * 101},
])
def test_the_filter_form_written_by_hand_is_what_its_widgets_would_write(app, query):
    """The bookings filters skip WTForms' widgets for speed: the markup must not drift from
    theirs (a validator that adds an attribute, an option, the echo of what was typed)."""
    with app.test_request_context("/bookings"):
        form = BookingFilterForm(MultiDict(query))
        form.validate()
        by_hand = render_template_string(_BY_HAND, form=form)
        form.q.render_kw = {"type": "search", "placeholder": "Title"}
        assert by_hand == render_template_string(_BY_WIDGET, form=form)


def test_pages_follow_each_other_in_start_order_and_keep_the_filters(app, client, auth, world):
    """Next page carries the cursor and the filters; a later page offers the first again."""
    base = utcnow() + timedelta(days=1)
    with app.app_context():
        for i in range(60):
            add_booking(world.acme.id, f"many-{i:02d}", title=f"Session {i:02d}",
                        start=(base + timedelta(hours=i)).replace(microsecond=0))
    auth.sign_in_as(world.operator)
    seen: list[str] = []
    url = "/bookings?q=session"
    while url:
        page = client.get(url).data.decode()
        seen += re.findall(r">(Session \d\d)</a>", page)
        found = re.search(r'href="(/bookings\?[^"]*cursor=[^"]+)" role="button"[^>]*rel="next"',
                          page)
        url = found.group(1).replace("&amp;", "&") if found else None
        if url:
            assert "q=session" in url
    today = utcnow().date().isoformat()  # the workspace is on UTC; From defaults to today
    assert f'href="/bookings?q=session&amp;since={today}" role="button"' in page  # First page
    assert seen == [f"Session {i:02d}" for i in range(60)]


def test_the_table_starts_today_unless_from_is_cleared(app, client, auth, world):
    with app.app_context():
        add_booking(world.acme.id, "past-1", title="Session last month",
                    start=(utcnow() - timedelta(days=30)).replace(microsecond=0))
        add_booking(world.acme.id, "next-1", title="Session next week",
                    start=(utcnow() + timedelta(days=7)).replace(microsecond=0))
    auth.sign_in_as(world.operator)
    first_visit = client.get("/bookings").data.decode()
    assert "Session next week" in first_visit and "Session last month" not in first_visit
    assert f'value="{utcnow().date().isoformat()}"' in first_visit  # shown in From, not hidden
    every_date = client.get("/bookings?since=").data.decode()
    assert "Session last month" in every_date and "Session next week" in every_date


def test_operator_retries_a_failed_booking_over_htmx(app, client, auth, world, booked):
    auth.sign_in_as(world.operator)
    response = client.post(f"/bookings/{booked['failed']}/retry", headers=hx_row(booked["failed"]))
    assert response.status_code == 200
    body = response.data.decode()
    assert body.startswith(f'<tbody id="booking-{booked["failed"]}"')
    assert 'class="booking is-live"' in body and "Queued" in body
    assert 'id="toasts" hx-swap-oob="beforeend"' in body and "Trying again" in body
    assert open_ops(app, booked["failed"]) == ["create"]


def test_retry_while_work_is_on_its_way_is_a_409_with_the_row(app, client, auth, world, booked):
    auth.sign_in_as(world.operator)
    response = client.post(f"/bookings/{booked['pending']}/retry",
                           headers=hx_row(booked["pending"]))
    assert response.status_code == 409
    body = response.data.decode()
    assert body.startswith(f'<tbody id="booking-{booked["pending"]}"')
    assert "already on its way" in body


def test_plain_form_posts_redirect_with_a_flash(app, client, auth, world, booked):
    auth.sign_in_as(world.admin)
    response = client.post(f"/bookings/{booked['scheduled']}/resync",
                           data={"next": "/bookings"})
    assert response.status_code == 302 and response.headers["Location"] == "/bookings"
    assert "Re-sync requested" in client.get("/bookings").data.decode()
    response = client.post(f"/bookings/{booked['scheduled']}/cancel",
                           data={"next": "https://evil.test/"})
    assert response.headers["Location"] == f"/bookings/{booked['scheduled']}"
    assert stored(app, booked["scheduled"]).state == "cancelled"


def test_cancel_over_htmx_answers_the_row_and_audits(app, client, auth, world, booked):
    auth.sign_in_as(world.operator)
    response = client.post(f"/bookings/{booked['scheduled']}/cancel",
                           headers=hx_row(booked["scheduled"]))
    assert response.status_code == 200
    body = response.data.decode()
    assert "booking cancelled" in body and "cancelled; its Zoom meeting is being deleted" in body
    assert open_ops(app, booked["scheduled"]) == ["cancel"]
    with app.app_context():
        assert db.session.scalar(db.select(AuditEvent.actor_label).filter_by(
            action="booking.cancelled")) == "operator@acme.test"


def test_htmx_aimed_at_the_booking_page_is_sent_back_to_it(client, auth, world, booked):
    auth.sign_in_as(world.operator)
    response = client.post(f"/bookings/{booked['scheduled']}/cancel",
                           headers={**HX, "HX-Target": "main"})
    assert response.headers["HX-Redirect"] == f"/bookings/{booked['scheduled']}"


def test_reschedule_form_opens_under_the_row_without_polling(client, auth, world, booked):
    auth.sign_in_as(world.operator)
    response = client.get(f"/bookings/{booked['pending']}/reschedule", headers=HX)
    body = response.data.decode()
    assert response.status_code == 200 and 'class="edit-row"' in body
    assert "hx-trigger" not in body and 'value="Europe/Lisbon"' in body
    assert 'list="iana-zones"' in body and '<option value="Asia/Tokyo">' in body
    plain = client.get(f"/bookings/{booked['pending']}/reschedule")
    assert plain.status_code == 302 and plain.headers["Location"].endswith("#reschedule")


def test_reschedule_converts_the_local_time_of_the_chosen_zone_to_utc(app, client, auth, world,
                                                                      booked):
    auth.sign_in_as(world.operator)
    day = (utcnow() + timedelta(days=10)).date()
    response = client.post(f"/bookings/{booked['scheduled']}/reschedule", headers=hx_row(
        booked["scheduled"]), data={"date": day.isoformat(), "time": "09:15",
                                    "duration_minutes": "45", "timezone": "America/New_York"})
    assert response.status_code == 200, response.data
    booking = stored(app, booked["scheduled"])
    expected = datetime.combine(day, time(9, 15), ZoneInfo("America/New_York"))
    assert booking.start_at == expected
    assert booking.duration_minutes == 45 and booking.timezone == "America/New_York"
    assert open_ops(app, booked["scheduled"]) == ["update"]
    assert "now starts" in response.data.decode()


@pytest.mark.parametrize(("fields", "message"), [
    ({"date": "2020-01-01", "time": "10:00"}, "Must be in the future."),
    ({"duration_minutes": "3"}, "Must be between 5 and 720 minutes."),
    ({"duration_minutes": "ten"}, "Not a valid integer value."),
    ({"timezone": "Mars/Olympus"}, "Must be an IANA time zone such as Europe/Lisbon."),
    ({"time": "25:99"}, "Not a valid time value."),
    ({"date": ""}, "Choose a date."),
])
def test_bad_reschedule_is_422_beside_the_field_and_changes_nothing(app, client, auth, world,
                                                                     booked, fields, message):
    auth.sign_in_as(world.operator)
    before = stored(app, booked["scheduled"])
    data = {"date": (utcnow() + timedelta(days=5)).date().isoformat(), "time": "10:00",
            "duration_minutes": "30", "timezone": "Europe/Lisbon", **fields}
    for headers in (hx_row(booked["scheduled"]), {}):
        response = client.post(f"/bookings/{booked['scheduled']}/reschedule", data=data,
                               headers=headers)
        assert response.status_code == 422
        body = response.data.decode()
        assert re.search(r'class="field-error">[^<]*' + re.escape(message), body), body[-3000:]
        assert 'aria-invalid="true"' in body
    after = stored(app, booked["scheduled"])
    assert (after.start_at, after.duration_minutes, after.timezone) == (
        before.start_at, before.duration_minutes, before.timezone)
    assert open_ops(app, booked["scheduled"]) == []


def test_rescheduling_a_cancelled_booking_is_a_409(app, client, auth, world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "gone", status="cancelled", state="cancelled")
    auth.sign_in_as(world.operator)
    response = client.post(f"/bookings/{booking_id}/reschedule", headers=hx_row(booking_id), data={
        "date": (utcnow() + timedelta(days=5)).date().isoformat(), "time": "10:00",
        "duration_minutes": "30", "timezone": "Europe/Lisbon"})
    assert response.status_code == 409 and "cannot be rescheduled" in response.data.decode()


@pytest.mark.parametrize("action", ["retry", "resync", "cancel", "reschedule"])
def test_support_is_refused_every_action(app, client, auth, world, booked, action):
    auth.sign_in_as(world.support)
    response = client.post(f"/bookings/{booked['failed']}/{action}", headers=hx_row(
        booked["failed"]), data={"date": "2030-01-01", "time": "10:00",
                                 "duration_minutes": "30", "timezone": "UTC"})
    assert response.status_code == 403
    assert stored(app, booked["failed"]).meeting.status == "failed"


@pytest.mark.parametrize("action", ["retry", "resync", "cancel", "reschedule"])
def test_actions_need_the_csrf_token(app, client, auth, world, booked, action):
    auth.sign_in_as(world.admin)
    response = client.post(f"/bookings/{booked['scheduled']}/{action}", csrf=False,
                           headers=hx_row(booked["scheduled"]))
    assert response.status_code == 400
    assert "security token" in response.data.decode()
    assert open_ops(app, booked["scheduled"]) == []


@pytest.mark.parametrize(("method", "path"), [
    ("GET", ""), ("GET", "/row"), ("GET", "/reschedule"), ("POST", "/retry"),
    ("POST", "/cancel"), ("POST", "/resync"), ("POST", "/reschedule")])
def test_another_workspaces_booking_is_not_found(app, client, auth, world, booked, method, path):
    auth.sign_in_as(world.admin)
    response = client.open(f"/bookings/{booked['foreign']}{path}", method=method,
                           headers={**HX, "X-CSRFToken": client.csrf_token()})
    assert response.status_code == 404
    assert stored(app, booked["foreign"]).state == "active"


def test_booking_page_tells_the_whole_story_but_never_the_start_url(app, client, auth, world,
                                                                     booked):
    from dashboard import token_cipher
    from dashboard.models import WebhookEvent
    from dashboard.services.audit import Actor, record

    booking_id = booked["scheduled"]
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        booking.meeting.start_url_enc = token_cipher.encrypt("https://zoom.us/s/host-key-123")
        booking.meeting.note = "Changed in Zoom: Zoom lasts 40 min"
        db.session.add(Operation(workspace_id=world.acme.id, booking_id=booking_id,
                                 kind="update", state="failed", attempts=3,
                                 last_error="Zoom refused: 300 invalid", requested_by="ops@x"))
        for n, (meeting_id, workspace_id) in enumerate([
                ("81200000001", None), (81200000001, world.acme.id),
                (81200000001, world.globex.id), (999, None)]):
            db.session.add(WebhookEvent(
                event=f"meeting.event{n}", dedupe_key=f"{n:064d}", workspace_id=workspace_id,
                payload={"object": {"id": meeting_id}}))
        record(world.acme.id, Actor.system(), "booking.rescheduled",
               ("booking", booking_id, "x"), duration_minutes=40)
        record(world.acme.id, Actor.system(), "booking.cancelled", ("booking", 99999, "other"))
        db.session.commit()
    auth.sign_in_as(world.support)
    response = client.get(f"/bookings/{booking_id}")
    assert response.status_code == 200
    page = response.data.decode()
    for text in ("Follow-up with Bea", "81200000001", "https://zoom.us/j/81200000001",
                 "Changed in Zoom", "Update meeting", "Zoom refused: 300 invalid", "ops@x",
                 "meeting.event0", "meeting.event1", "booking.rescheduled", "duration_minutes"):
        assert text in page, text
    for text in ("meeting.event2", "meeting.event3", "booking.cancelled", "host-key-123",
                 "start_url"):
        assert text not in page, text
    with app.app_context():
        assert db.session.get(Booking, booking_id).meeting.start_url_enc not in page
    assert "Save new time" not in page and ">Cancel booking<" not in page


def test_operator_reschedules_from_the_booking_page_without_javascript(app, client, auth,
                                                                         world, booked):
    auth.sign_in_as(world.operator)
    page = client.get(f"/bookings/{booked['scheduled']}").data.decode()
    assert 'id="reschedule"' in page and "Save new time" in page
    bad = client.post(f"/bookings/{booked['scheduled']}/reschedule", data={
        "date": "2020-01-01", "time": "10:00", "duration_minutes": "30",
        "timezone": "Europe/Lisbon"})
    assert bad.status_code == 422 and "<h1>Follow-up with Bea</h1>" in bad.data.decode()
    day = (utcnow() + timedelta(days=4)).date().isoformat()
    good = client.post(f"/bookings/{booked['scheduled']}/reschedule", data={
        "date": day, "time": "10:00", "duration_minutes": "30", "timezone": "Europe/Lisbon"})
    assert good.status_code == 302
    assert good.headers["Location"] == f"/bookings/{booked['scheduled']}"
    assert "now starts" in client.get(good.headers["Location"]).data.decode()


def test_a_poll_leaves_the_flash_an_action_showed(client, auth, world, booked):
    auth.sign_in_as(world.operator)
    client.post(f"/bookings/{booked['failed']}/retry", headers=hx_row(booked["failed"]))
    poll = client.get(f"/bookings/{booked['failed']}/row", headers=HX).data.decode()
    assert 'id="toasts"' not in poll and 'id="flashes"' not in poll and "is-live" in poll


def test_cancel_asks_on_a_page_of_its_own_without_javascript(app, client, auth, world, booked):
    auth.sign_in_as(world.operator)
    page = client.get(f"/bookings/{booked['scheduled']}/cancel").data.decode()
    assert "Cancel “Follow-up with Bea”?" in page
    assert ">Cancel booking and delete its meeting</button>" in page and ">Keep booking<" in page
    assert stored(app, booked["scheduled"]).state == "active"  # asking changes nothing
    detail = client.get(f"/bookings/{booked['scheduled']}").data.decode()
    assert f'method="get" action="/bookings/{booked["scheduled"]}/cancel"' in detail
    assert 'data-confirm="Cancel booking and delete its meeting"' in detail
    gone = client.get(f"/bookings/{booked['foreign']}/cancel")
    assert gone.status_code == 404
    auth.sign_in_as(world.support)
    assert client.get(f"/bookings/{booked['scheduled']}/cancel").status_code == 403


def test_cancelling_what_cannot_be_is_said_on_the_confirmation_page(app, client, auth, world):
    with app.app_context():
        booking_id = add_booking(world.acme.id, "done", status="ended")
    auth.sign_in_as(world.operator)
    response = client.get(f"/bookings/{booking_id}/cancel")
    assert response.status_code == 409 and "has ended" in response.data.decode()
    assert "delete its meeting</button>" not in response.data.decode()


def test_the_row_menu_offers_what_the_booking_does(client, auth, world, booked):
    auth.sign_in_as(world.operator)
    menu = client.get(f"/bookings/{booked['scheduled']}/menu", headers=HX).data.decode()
    for item in ("Open booking", "Reschedule", "Re-sync", "Cancel booking…", "Copy join link"):
        assert item in menu, item
    assert 'data-confirm-keep="Keep booking"' in menu
    failed = client.get(f"/bookings/{booked['failed']}/menu", headers=HX).data.decode()
    assert "Re-sync" not in failed and "Copy join link" not in failed
    plain = client.get(f"/bookings/{booked['scheduled']}/menu")
    assert plain.status_code == 302
    assert plain.headers["Location"] == f"/bookings/{booked['scheduled']}"
    assert client.get(f"/bookings/{booked['foreign']}/menu", headers=HX).status_code == 404


def _hourly_slots(app, workspace_id: int, count: int = 120) -> None:
    """Bookings "Slot 000", "Slot 001", ... an hour apart from tomorrow."""
    base = utcnow() + timedelta(days=1)
    with app.app_context():
        for i in range(count):
            add_booking(workspace_id, f"p-{i:03d}", title=f"Slot {i:03d}",
                        start=(base + timedelta(hours=i)).replace(microsecond=0))


def test_previous_and_next_pages_count_and_sort(app, client, auth, world):
    _hourly_slots(app, world.acme.id)
    auth.sign_in_as(world.operator)
    first = client.get("/bookings").data.decode()
    assert "1 to 50 of 120" in first and "Previous page" not in first

    def link(page: str, rel: str) -> str:
        found = re.search(rf'href="([^"]+)" role="button"[^>]*rel="{rel}"', page)
        assert found, rel
        return found.group(1).replace("&amp;", "&")

    second = client.get(link(first, "next")).data.decode()
    assert "51 to 100 of 120" in second and ">Slot 050</a>" in second
    back = client.get(link(second, "prev")).data.decode()
    assert "1 to 50 of 120" in back
    assert re.findall(r">(Slot \d+)</a>", back) == [f"Slot {i:03d}" for i in range(50)]
    latest = client.get("/bookings?sort=-start").data.decode()
    assert re.findall(r">(Slot \d+)</a>", latest)[:2] == ["Slot 119", "Slot 118"]
    assert 'aria-sort="descending"' in latest
    assert "sort=-start" in link(latest, "next")
    assert client.get("/bookings?sort=sideways").status_code == 422


def test_a_page_past_the_count_cap_says_where_it_is_not_a_count_it_passed(
        app, client, auth, world, monkeypatch):
    from dashboard.bookings import routes

    monkeypatch.setattr(routes, "COUNT_CAP", 60)
    _hourly_slots(app, world.acme.id)
    auth.sign_in_as(world.operator)
    first = client.get("/bookings").data.decode()
    assert "1 to 50 of 60+" in first
    following = re.search(r'href="([^"]+)" role="button"[^>]*rel="next"', first).group(1)
    second = client.get(following.replace("&amp;", "&")).data.decode()
    assert "51 to 100, more follow" in second and "of 60+" not in second


def test_a_page_of_50_rows_is_at_most_40_kb_and_one_request_polls_them_all(app, client, auth,
                                                                             world):
    base = utcnow() + timedelta(days=1)
    with app.app_context():
        for i in range(60):
            kind = ("failed", "scheduled", "pending")[i % 3]
            add_booking(world.acme.id, f"size-{i:03d}", title=f"Consultation with Gabriela {i}",
                        customer=f"Gabriela Fernandes{i}", status=kind,
                        operation={"failed": "dead", "pending": "queued"}.get(kind),
                        last_error="Gave up after 8 attempts: Zoom is unavailable"
                        if kind == "failed" else None,
                        start=(base + timedelta(hours=i)).replace(microsecond=0))
    auth.sign_in_as(world.operator)
    page = client.get("/bookings").data
    assert page.count(b'<tbody id="booking-') == 50
    assert page.count(b"<input type=checkbox form=bulk-selected name=id") == 50
    assert len(page) <= 40 * 1024, len(page)
    assert page.count(b'id="live-poll"') == 1 and b"every 2s" not in page


# --- rows kept as HTML for the values that made them (bookings/row_cache.py) ------------


def _row_of(page: str, booking_id: int) -> str:
    match = re.search(rf'<tbody id="booking-{booking_id}".*?</tbody>', page, re.S)
    assert match, f"no row {booking_id}"
    return match.group(0)


def test_a_row_changed_underneath_is_shown_changed_even_without_updated_at(
        app, client, auth, world, booked):
    auth.sign_in_as(world.operator)
    assert "Follow-up with Bea" in client.get("/bookings").get_data(as_text=True)
    with app.app_context():  # as a bulk UPDATE would: updated_at is left alone
        db.session.execute(db.update(Booking).where(Booking.id == booked["scheduled"])
                           .values(title="Renamed call"))
        db.session.execute(db.update(Meeting).where(Meeting.booking_id == booked["scheduled"])
                           .values(status="failed", last_error="Zoom said no"))
        db.session.commit()
    row = _row_of(client.get("/bookings").get_data(as_text=True), booked["scheduled"])
    assert "Renamed call" in row and "Follow-up" not in row
    assert "Failed" in row and ">Retry</button>" in row


def test_the_same_rows_are_not_shared_between_an_operator_and_support(
        client, auth, world, booked):
    auth.sign_in_as(world.operator)
    operator_row = _row_of(client.get("/bookings").get_data(as_text=True), booked["failed"])
    assert "type=checkbox" in operator_row and ">Retry</button>" in operator_row
    auth.sign_in_as(world.support)
    support_row = _row_of(client.get("/bookings").get_data(as_text=True), booked["failed"])
    assert "checkbox" not in support_row and "<button" not in support_row


def test_an_open_drift_and_work_on_its_way_change_the_row(app, client, auth, world, booked):
    from dashboard.models import MeetingDrift

    auth.sign_in_as(world.operator)
    before = _row_of(client.get("/bookings").get_data(as_text=True), booked["scheduled"])
    assert "Needs attention" not in before
    with app.app_context():
        db.session.add(MeetingDrift(workspace_id=world.acme.id, booking_id=booked["scheduled"],
                                    kind="deleted", detected_by="webhook", changes={}))
        db.session.commit()
    drifted = _row_of(client.get("/bookings").get_data(as_text=True), booked["scheduled"])
    assert "Needs attention" in drifted and ">Recreate</button>" in drifted
    with app.app_context():
        db.session.add(Operation(workspace_id=world.acme.id, booking_id=booked["scheduled"],
                                 kind="create", state="queued", requested_by="test"))
        db.session.commit()
    queued = _row_of(client.get("/bookings").get_data(as_text=True), booked["scheduled"])
    assert "Queued" in queued and "<button" not in queued and "is-live" in queued


def test_the_kept_rows_are_bounded(app, client, auth, world, booked, monkeypatch):
    from dashboard.bookings import row_cache

    monkeypatch.setattr(row_cache, "KEPT", 2)
    app.extensions.pop("booking_rows", None)
    auth.sign_in_as(world.operator)
    page = client.get("/bookings").get_data(as_text=True)
    assert len(app.extensions["booking_rows"]) <= 2
    assert all(f'id="booking-{booked[name]}"' in page
               for name in ("scheduled", "pending", "failed"))
