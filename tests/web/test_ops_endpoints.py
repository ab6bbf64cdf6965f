"""``/healthz``, ``/readyz`` and ``/metrics``: what the people who run Lakesis ask."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from flask_migrate import stamp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from dashboard.extensions import db
from dashboard.models import WorkerHeartbeat
from dashboard.orm import utcnow
from dashboard.services import worker_heartbeat
from tests.booking_builders import new_booking


@pytest.fixture(autouse=True)
def _unstamped(app):
    """No migration version recorded before or after (``stamp`` writes a table the per-test
    cleanup does not know, and a database kept between runs would remember it)."""
    def drop() -> None:
        with app.app_context():
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()

    drop()
    yield
    drop()


def _samples(exposition: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(exposition) for s in family.samples}


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_is_not_ready_until_migrated_and_a_worker_beats(app, client):
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json["checks"]
    assert checks["database"]["ok"] is True
    assert checks["migrations"] == {"ok": False,
                                    "detail": "not applied: run `flask db upgrade`"}
    assert checks["worker"]["ok"] is False and "flask zoom worker" in checks["worker"]["detail"]

    with app.app_context():
        stamp()
        worker_heartbeat.beat("host:1:1")
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"
    assert response.json["checks"]["migrations"]["detail"].startswith("at head ")


def test_readyz_names_a_stale_worker(app, client):
    with app.app_context():
        stamp()
        db.session.add(WorkerHeartbeat(worker_id="old", beat_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["worker"]["detail"].startswith("last worker heartbeat 30")


def test_a_heartbeat_updates_its_own_row_and_prunes_long_silent_ones(app):
    with app.app_context():
        db.session.add(WorkerHeartbeat(worker_id="gone", beat_at=utcnow() - timedelta(days=2)))
        db.session.commit()
        worker_heartbeat.beat("w1")
        worker_heartbeat.beat("w1")
        assert db.session.scalars(db.select(WorkerHeartbeat.worker_id)).all() == ["w1"]


def test_metrics_count_outbox_work_from_the_database(app, client, world):
    new_booking(app, world.acme.id, ref="m-1")
    new_booking(app, world.acme.id, ref="m-2")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = _samples(response.get_data(as_text=True))
    assert samples[("lakesis_operations", (("kind", "create"), ("state", "queued")))] == 2
    assert ("lakesis_oldest_due_operation_age_seconds", ()) in samples
    assert samples[("lakesis_worker_heartbeat_age_seconds", ())] == -1


def test_metrics_count_zoom_calls_by_endpoint_and_outcome(app):
    from dashboard.metrics import ZOOM_CALLS, CountingSession

    def count(endpoint: str, outcome: str) -> float:
        return ZOOM_CALLS.labels(endpoint, outcome)._value.get()

    before = count("GET /v2/meetings/{id}", "4xx")
    with responses.RequestsMock() as mocked:
        mocked.get("https://api.zoom.us/v2/meetings/81234567890", status=404)
        CountingSession().get("https://api.zoom.us/v2/meetings/81234567890")
    assert count("GET /v2/meetings/{id}", "4xx") == before + 1


@pytest.mark.parametrize("remote, token, sent, status", [
    ("203.0.113.9", None, None, 403),
    ("127.0.0.1", None, None, 200),
    ("203.0.113.9", "s3cret-metrics", None, 401),
    ("203.0.113.9", "s3cret-metrics", "Bearer wrong", 401),
    ("203.0.113.9", "s3cret-metrics", "Bearer s3cret-metrics", 200),
])
def test_metrics_are_for_this_machine_or_the_token_holder(app, client, remote, token, sent,
                                                         status):
    app.config["METRICS_TOKEN"] = token
    headers = {"Authorization": sent} if sent else {}
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == status
    assert b"s3cret-metrics" not in response.data


def test_metrics_count_webhook_requests_by_outcome(app, client):
    from dashboard.metrics import WEBHOOK_EVENTS

    before = WEBHOOK_EVENTS.labels("bad_signature")._value.get()
    response = client.post("/webhooks/zoom", data=b'{"event": "meeting.started"}',
                           headers={"Content-Type": "application/json",
                                    "x-zm-request-timestamp": "1700000000",
                                    "x-zm-signature": "v0=forged"}, csrf=False)
    assert response.status_code == 401
    assert WEBHOOK_EVENTS.labels("bad_signature")._value.get() == before + 1
