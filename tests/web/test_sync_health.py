"""Sync health: the connection, the work of a window, failures by cause, webhooks, what needs
attention; figures checked against the rows, counted here independently of the service."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Booking, Operation, WebhookEvent, Workspace
from dashboard.orm import utcnow
from dashboard.services import sync_health
from dashboard.services.sync_windows import WINDOWS
from tests.booking_builders import add_booking
from tests.sql_statements import statements_sent
from tests.zoom_builders import compact, meeting_event, signed_headers

FINISHED = ("succeeded", "failed", "dead")
ERRORS = ("Zoom refused: 1001 User does not exist: {who}@example.test.",
          "Zoom refused: 3000 Cannot access meeting {n} info.",
          "Gave up: Zoom is unavailable (HTTP 503, tracking id {n})")


def _op(workspace_id: int, booking_id: int, state: str, **fields) -> None:
    db.session.add(Operation(workspace_id=workspace_id, booking_id=booking_id,
                             kind=fields.pop("kind", "create"), state=state,
                             requested_by="test", **fields))


def _workspace(workspace_id: int) -> Workspace:
    return db.session.get(Workspace, workspace_id)


@pytest.fixture
def troubled(app, world):
    """Acme with work in every state; globex with a failure acme must not see."""
    now = utcnow()
    with app.app_context():
        acme = world.acme.id
        dead = add_booking(acme, "dead", title="Dead one", status="failed",
                           last_error="Gave up after 8 attempts: Zoom is unavailable")
        _op(acme, dead, "dead", attempts=8, last_error="Zoom is unavailable",
            finished_at=now - timedelta(hours=2))
        fixed = add_booking(acme, "fixed", title="Fixed one")
        _op(acme, fixed, "failed", last_error="Zoom refused: old",
            finished_at=now - timedelta(days=3))
        _op(acme, fixed, "succeeded", finished_at=now - timedelta(days=2))
        gone = add_booking(acme, "gone", title="Gone one", status="deleted_in_zoom")
        waiting = add_booking(acme, "wait", status="waiting_for_connection")
        _op(acme, waiting, "waiting")
        parked = add_booking(acme, "parked", status="pending")
        _op(acme, parked, "queued", next_attempt_at=now + timedelta(hours=6))
        retrying = add_booking(acme, "retrying", status="pending")
        _op(acme, retrying, "queued", next_attempt_at=now + timedelta(seconds=30), attempts=2)
        due = add_booking(acme, "due", status="pending")
        _op(acme, due, "queued", created_at=now - timedelta(minutes=7))
        other = add_booking(world.globex.id, "globex", title="Globex failure", status="failed")
        _op(world.globex.id, other, "failed", last_error="globex secret error", finished_at=now)
        db.session.add_all([
            WebhookEvent(event="meeting.started", dedupe_key="a" * 64, workspace_id=acme,
                         processed_at=now, outcome="meeting started"),
            WebhookEvent(event="meeting.ended", dedupe_key="b" * 64, workspace_id=acme),
            WebhookEvent(event="meeting.ended", dedupe_key="c" * 64, workspace_id=acme,
                         received_at=now - timedelta(days=2), processed_at=now,
                         outcome="ignored: the meeting is ended in Lakesis"),
            WebhookEvent(event="meeting.deleted", dedupe_key="d" * 64,
                         workspace_id=world.globex.id)])
        db.session.commit()
    world.ids = {"dead": dead, "fixed": fixed, "gone": gone}
    return world


def test_summary_of_a_day_and_of_a_week(app, troubled):
    with app.app_context():
        acme = _workspace(troubled.acme.id)
        day = sync_health.summary(acme, WINDOWS["24h"])
        assert day.counts == {"queued": 3, "running": 0, "waiting": 1, "succeeded": 0,
                              "failed": 0, "dead": 1}
        assert [(g.cause, g.count, g.dead) for g in day.failures] == [
            ("Zoom is unavailable", 1, 1)]
        assert sorted(m.booking.title for m in day.attention) == ["Dead one", "Gone one"]
        assert day.attention_count == 2
        waiting = day.waiting
        assert (waiting.for_connection, waiting.meetings_waiting) == (1, 1)
        assert (waiting.parked, waiting.retrying, waiting.due) == (1, 1, 1)
        assert waiting.parked_until > utcnow() + timedelta(hours=5)
        assert utcnow() - waiting.oldest_due_since >= timedelta(minutes=7)
        assert utcnow() - waiting.oldest_waiting_since >= timedelta(minutes=7)
        assert day.webhooks.by_outcome == {"applied": 1, "ignored": 0, "failed": 0,
                                           "pending": 1}
        week = sync_health.summary(acme, WINDOWS["7d"])
        assert (week.counts["succeeded"], week.counts["failed"], week.counts["dead"]) == (1, 1, 1)
        assert week.failed_in_window == sum(g.count for g in week.failures) == 2
        assert week.webhooks.by_outcome["ignored"] == 1


def test_summary_uses_a_fixed_number_of_bounded_queries(app, troubled):
    with app.app_context():
        workspace = _workspace(troubled.acme.id)
        with statements_sent(db.engine) as sent:
            sync_health.summary(workspace, WINDOWS["7d"])
        statements = [statement for statement, _ in sent]
    assert len(statements) <= 20
    bounded = ("LIMIT", "count(", "min(", "max(", "sum(", "zoom_connections")
    assert all(any(word in s or word in s.lower() for word in bounded)
               for s in statements), statements


@pytest.fixture
def history(app, world):
    """A random month of acme's work and webhook events, some from before every window."""
    rng = random.Random(10)
    now = utcnow()
    with app.app_context():
        acme = world.acme.id
        ids = [add_booking(acme, f"h-{n}", status=rng.choice(("scheduled", "failed",
                                                             "deleted_in_zoom")))
               for n in range(40)]
        for n in range(600):
            state = rng.choice(("queued", "running", "waiting", *FINISHED, *FINISHED))
            finished = state in FINISHED
            _op(acme, rng.choice(ids), state,
                finished_at=now - timedelta(minutes=rng.randint(1, 60 * 24 * 10))
                if finished else None,
                last_error=rng.choice(ERRORS).format(who=f"host{n % 7}", n=10**8 + n)
                if state in ("failed", "dead") else None,
                outcome="superseded by update" if state == "succeeded" and n % 5 == 0
                else None)
        other = add_booking(world.globex.id, "g-1")
        for _ in range(30):
            _op(world.globex.id, other, rng.choice(FINISHED), finished_at=now,
                last_error="globex")
        for n in range(200):
            applied = rng.random()
            db.session.add(WebhookEvent(
                event="meeting.updated", dedupe_key=f"{n:064d}",
                workspace_id=acme if n % 9 else world.globex.id,
                received_at=now - timedelta(minutes=rng.randint(1, 60 * 24 * 10)),
                processed_at=None if applied < 0.2 else now,
                outcome=None if applied < 0.2 else "ignored: x" if applied < 0.5
                else "failed: KeyError" if applied < 0.6 else "meeting updated"))
        db.session.commit()
    return world


def _rows(app, workspace_id):
    with app.app_context():
        ops = db.session.execute(select(Operation.state, Operation.finished_at,
                                        Operation.outcome, Operation.booking_id)
                                 .where(Operation.workspace_id == workspace_id)).all()
        events = db.session.execute(select(WebhookEvent.received_at, WebhookEvent.processed_at,
                                           WebhookEvent.outcome)
                                    .where(WebhookEvent.workspace_id == workspace_id)).all()
    return ops, events


@pytest.mark.parametrize("key", list(WINDOWS))
def test_figures_equal_the_rows_counted_independently(app, history, key):
    now = utcnow()
    since = now - WINDOWS[key].length
    ops, events = _rows(app, history.acme.id)
    expected = {state: sum(1 for op in ops if op.state == state)
                for state in ("queued", "running", "waiting")}
    expected |= {state: sum(1 for op in ops if op.state == state and op.finished_at >= since)
                 for state in FINISHED}
    successes = sum(1 for op in ops if op.state == "succeeded" and op.finished_at >= since
                    and not (op.outcome or "").startswith("superseded"))
    outcomes = {"pending": 0, "ignored": 0, "failed": 0, "applied": 0}
    for received, processed, outcome in events:
        if received >= since:
            name = ("pending" if processed is None else "ignored" if outcome.startswith(
                "ignored") else "failed" if outcome.startswith("failed") else "applied")
            outcomes[name] += 1
    with app.app_context():
        health = sync_health.summary(_workspace(history.acme.id), WINDOWS[key], now)
    assert health.counts == expected
    # The numbers add up: the failure groups count every failure the tiles count.
    assert sum(g.count for g in health.failures) == expected["failed"] + expected["dead"]
    assert sum(g.dead for g in health.failures) == expected["dead"]
    assert sum(bar.failed for bar in health.chart) == expected["failed"] + expected["dead"]
    assert sum(bar.succeeded for bar in health.chart) == successes
    assert health.webhooks.by_outcome == outcomes
    # Causes: the three error texts, whatever the host or tracking id in them.
    assert len(health.failures) <= 3


def _tiles(page: str) -> dict[str, tuple[int, str]]:
    found = re.findall(r'data-state="(\w+)">\s*<a href="([^"]+)"[^>]*><strong>(\d+)</strong>',
                       page)
    return {state: (int(count), href.replace("&amp;", "&")) for state, href, count in found}


def test_page_numbers_add_up_and_link_to_the_bookings_they_count(client, auth, history, app):
    auth.sign_in_as(history.support)
    page = client.get("/health?window=7d").data.decode()
    tiles = _tiles(page)
    assert set(tiles) == {"queued", "running", "waiting", "succeeded", "failed", "dead"}
    groups = [int(n) for n in re.findall(r'<tr data-count="(\d+)">', page)]
    assert sum(groups) == tiles["failed"][0] + tiles["dead"][0]
    ops, _ = _rows(app, history.acme.id)
    since = utcnow() - WINDOWS["7d"].length
    for state, (count, href) in tiles.items():
        counted = [op for op in ops if op.state == state
                   and (state not in FINISHED or op.finished_at >= since)]
        assert count == len(counted), state
        listed = client.get(href).data.decode()
        assert "booking-filters" in listed
        shown = set(re.findall(r'id="booking-(\d+)"', listed))
        assert shown == {str(op.booking_id) for op in counted}, state


def test_support_sees_no_fix_buttons_and_is_told_who_can(client, auth, troubled):
    auth.sign_in_as(troubled.support)
    response = client.get("/health")
    assert response.status_code == 200
    page = response.data.decode()
    for text in ("Sync health", "Not connected", "Dead one", "Gone one", "Zoom is unavailable",
                 "held back by Zoom", "1 not applied yet", "meeting.ended",
                 "An operator or admin can retry", "Ask a workspace admin to connect"):
        assert text in page, text
    assert "Globex" not in page and "globex secret error" not in page
    assert "meeting.deleted" not in page
    assert "/retry" not in page and "Retry all failed" not in page
    assert f'href="/bookings/{troubled.ids["dead"]}"' in page


def test_operator_gets_fix_buttons(client, auth, troubled):
    auth.sign_in_as(troubled.operator)
    page = client.get("/health").data.decode()
    assert f'action="/bookings/{troubled.ids["dead"]}/retry"' in page
    assert f'action="/bookings/{troubled.ids["gone"]}/retry"' in page
    assert "Recreate meeting" in page and "Retry all failed" in page
    response = client.post(f"/bookings/{troubled.ids['gone']}/retry",
                           data={"next": "/health?window=1h"})
    assert response.status_code == 302 and response.location.endswith("/health?window=1h")


def test_health_page_says_when_nothing_failed(client, auth, world):
    auth.sign_in_as(world.operator)
    page = client.get("/health").data.decode()
    assert "Nothing has failed in the last 24 hours." in page
    assert "Nothing needs attention." in page
    assert "<strong>0</strong> received in the last 24 hours" in page


def test_htmx_poll_gets_the_panels_of_the_same_window(client, auth, troubled):
    auth.sign_in_as(troubled.support)
    page = client.get("/health?window=7d&outcome=ignored").data.decode()
    assert 'hx-get="/health?window=7d&amp;outcome=ignored"' in page
    panels = client.get("/health?window=7d&outcome=ignored", headers={"HX-Request": "true"})
    body = panels.data.decode()
    assert panels.status_code == 200 and "<html" not in body and "Bulk actions" not in body
    assert "showing last 7 days" in body and 'id="health-updated"' in body
    assert body.count('data-outcome="ignored"') == 1 and 'data-outcome="applied"' not in body


@pytest.mark.parametrize("query, field", [
    ("window=2y", "window"), ("outcome=lost", "outcome"), ("before=abc", "before"),
    ("before=99999999999", "before")])
def test_bad_parameters_are_named_not_a_500(client, auth, world, query, field):
    auth.sign_in_as(world.support)
    response = client.get(f"/health?{query}")
    assert response.status_code == 422
    assert f"<li>{field}:" in response.data.decode()


def test_webhook_events_are_paged(client, auth, history):
    auth.sign_in_as(history.support)
    first = client.get("/health?window=7d").data.decode()
    older = re.search(r'href="([^"]+)" id="older-events"', first).group(1).replace("&amp;", "&")
    second = client.get(older).data.decode()
    rows = lambda page: re.findall(r"<tr data-outcome=", page)  # noqa: E731
    assert len(rows(first)) == 25 and rows(second)
    assert "before=" in older


def test_refused_and_duplicate_webhooks_are_counted(client, auth, world, app):
    raw = compact(meeting_event())
    headers = signed_headers(app.config["ZOOM_WEBHOOK_SECRET_TOKEN"], raw)
    forged = dict(headers, **{"x-zm-signature": "v0=" + "0" * 64})
    for sent, status in ((headers, 200), (headers, 200), (forged, 401)):
        response = client.post("/webhooks/zoom", data=raw, headers=sent, csrf=False,
                               content_type="application/json")
        response.close()
        assert response.status_code == status
    auth.sign_in_as(world.support)
    page = client.get("/health").data.decode()
    assert "1 duplicate (Zoom sent it again)" in page
    assert "1 rejected: bad signature or stale timestamp" in page


def test_daily_budget_per_host(app, world):
    now = utcnow()
    with app.app_context():
        acme = world.acme.id
        mine = add_booking(acme, "b-host")
        plain = add_booking(acme, "b-plain")
        capped = add_booking(acme, "b-capped")
        for booking_id, host in ((mine, "Host@Example.test"), (capped, "busy@example.test")):
            db.session.get(Booking, booking_id).host_email = host
        for n in range(3):
            _op(acme, mine, "succeeded", kind="update", finished_at=now - timedelta(minutes=n))
        _op(acme, mine, "succeeded", kind="update", finished_at=now,
            outcome="superseded by update")  # no Zoom call
        _op(acme, mine, "succeeded", kind="cancel", finished_at=now)  # not capped
        _op(acme, mine, "succeeded", kind="create", finished_at=now - timedelta(days=1, hours=1))
        _op(acme, plain, "succeeded", kind="create", finished_at=now)
        _op(acme, plain, "queued", kind="update")
        _op(acme, capped, "queued", kind="update", next_attempt_at=now + timedelta(hours=5))
        db.session.commit()
        from dashboard.services import daily_budget  # noqa: PLC0415

        budgets = {b.host: b for b in daily_budget.use_today(acme, None, now)}
    if now.hour == 0 and now.minute < 5:
        pytest.skip("too close to 00:00 UTC, when the budget resets")
    assert (budgets["host@example.test"].used, budgets["host@example.test"].remaining) == (3, 97)
    assert (budgets[""].used, budgets[""].queued, budgets[""].remaining) == (1, 1, 98)
    assert budgets["busy@example.test"].capped and budgets["busy@example.test"].remaining == 0


def test_workspaces_overview_worst_first(client, auth, world, app):
    from dashboard.models import Membership  # noqa: PLC0415

    with app.app_context():
        third = Workspace(name="Aardvark Dental", slug="aardvark")
        fourth = Workspace(name="Zebra Care", slug="zebra")
        db.session.add_all([third, fourth])
        db.session.flush()
        for workspace in (world.globex, third, fourth):
            db.session.add(Membership(user_id=world.support.id, workspace_id=workspace.id,
                                      role="support"))
        from dashboard.models import ZoomConnection  # noqa: PLC0415

        for workspace in (third, fourth):
            db.session.add(ZoomConnection(workspace_id=workspace.id, status="connected",
                                          zoom_email="z@example.test"))
        db.session.flush()
        late = add_booking(fourth.id, "late", status="pending")
        _op(fourth.id, late, "queued", next_attempt_at=utcnow() + timedelta(hours=3))
        add_booking(world.acme.id, "acme-failed", status="failed")
        db.session.commit()
    auth.sign_in_as(world.support)
    home = client.get("/").data.decode()
    assert 'href="/workspaces/health"' in home
    page = client.get("/workspaces/health").data.decode()
    order = re.findall(r'data-light="(\w+)" data-workspace="(\w+)"', page)
    assert order == [("red", "acme"), ("red", "globex"), ("amber", "zebra"),
                     ("green", "aardvark")]
    assert "1 meeting failed" in page and "Zoom is not connected" in page
    assert "held by Zoom&#39;s daily limit" in page or "held by Zoom's daily limit" in page


def test_overview_lists_only_the_users_workspaces(client, auth, world):
    auth.sign_in_as(world.outsider)
    page = client.get("/workspaces/health").data.decode()
    assert re.findall(r'data-workspace="(\w+)"', page) == ["globex"]


def test_booking_filter_by_sync_state_is_checked(client, auth, world):
    auth.sign_in_as(world.support)
    response = client.get("/bookings?sync=lost&since=")
    assert response.status_code == 422
    assert "Zoom work" in response.data.decode()
    assert client.get("/bookings?sync=failed&window=1h&since=").status_code == 200


def test_booking_ids_by_sync_filter(client, auth, troubled, app):
    auth.sign_in_as(troubled.support)
    page = client.get("/bookings?sync=failed&window=7d&since=").data.decode()
    assert re.findall(r'id="booking-(\d+)"', page) == [str(troubled.ids["fixed"])]
    page = client.get("/bookings?sync=failed&window=24h&since=").data.decode()
    assert re.findall(r'id="booking-(\d+)"', page) == []
    with app.app_context():
        assert db.session.get(Booking, troubled.ids["fixed"]).title == "Fixed one"


def test_nav_links_bookings_and_sync_health(client, auth, world):
    auth.sign_in_as(world.support)
    page = client.get("/").data.decode()
    assert 'href="/bookings"' in page and 'href="/health"' in page
    assert "coming soon" not in page


def test_a_meeting_changed_in_zoom_needs_attention_and_turns_the_light_red(app, client, auth,
                                                                          world):
    from dashboard.models import MeetingDrift, Membership
    from dashboard.services import workspace_health

    with app.app_context():
        booking = add_booking(world.acme.id, "moved", title="Moved in Zoom")
        db.session.add(MeetingDrift(workspace_id=world.acme.id, booking_id=booking,
                                    kind="changed", changes={"duration": {"old": 30, "new": 45}},
                                    detected_at=utcnow(), detected_by="webhook"))
        db.session.commit()
        member = db.session.scalar(select(Membership).where(
            Membership.workspace_id == world.acme.id, Membership.user_id == world.operator.id))
        [acme] = workspace_health.overview([member])
        assert acme.light == workspace_health.Light.RED
        assert "1 meeting changed in Zoom" in acme.reasons
    auth.sign_in_as(world.operator)
    page = client.get("/health").data.decode()
    assert f'id="attention-{booking}"' in page and "Changed in Zoom" in page
    assert f'/bookings/{booking}#needs-attention' in page


def test_needs_attention_is_newest_first_counted_once_and_capped(app, world, monkeypatch):
    from dashboard.models import Meeting, MeetingDrift

    monkeypatch.setattr(sync_health, "LIST_LIMIT", 2)
    now = utcnow()
    with app.app_context():
        ids = {name: add_booking(world.acme.id, f"attn-{name}", title=name, status=status)
               for name, status in (("old failure", "failed"), ("gone", "deleted_in_zoom"),
                                    ("drifted", "scheduled"), ("fine", "scheduled"))}
        # A failed meeting with an open drift is one problem, not two.
        for name in ("drifted", "old failure"):
            db.session.add(MeetingDrift(workspace_id=world.acme.id, booking_id=ids[name],
                                        kind="changed", detected_by="webhook", changes={}))
        for age, name in enumerate(("drifted", "gone", "old failure")):
            db.session.execute(db.update(Meeting).where(Meeting.booking_id == ids[name])
                               .values(updated_at=now - timedelta(minutes=age)))
        db.session.commit()
        listed, total = sync_health._attention(world.acme.id)
        assert total == 3
        assert [m.booking.title for m in listed] == ["drifted", "gone"]
