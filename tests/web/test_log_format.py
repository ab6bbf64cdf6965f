"""Logs are one JSON object a line, and each names the request it belongs to."""

from __future__ import annotations

import json
import logging

import pytest

from dashboard import log_format


@pytest.fixture(autouse=True)
def _json_handler():
    """Alembic's ``fileConfig`` (the migration tests) replaces the root logger's handlers."""
    log_format.install_handler("json")


def _lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def test_a_request_s_records_are_json_lines_carrying_its_id(app, client, capsys):
    capsys.readouterr()
    response = client.post("/login", data={"email": "nobody@example.com", "password": "wrong"})
    records = _lines(capsys.readouterr().err)
    failed = [r for r in records if r["message"].startswith("failed sign-in")]
    assert failed, records
    assert failed[0]["level"] == "INFO" and failed[0]["logger"].startswith("dashboard")
    assert failed[0]["request_id"] == response.headers["X-Request-ID"]
    assert len(response.headers["X-Request-ID"]) == 32


def test_a_proxy_s_request_id_is_kept_only_when_well_formed(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.2"})
    assert kept.headers["X-Request-ID"] == "edge-7f3a.2"
    replaced = client.get("/healthz", headers={"X-Request-ID": "x\" injected=1 " + "y" * 80})
    assert replaced.headers["X-Request-ID"] != "x\" injected=1 " + "y" * 80
    assert len(replaced.headers["X-Request-ID"]) == 32


def test_records_inside_an_operation_carry_its_id(app, capsys):
    capsys.readouterr()
    with log_format.operation(4711):
        logging.getLogger("dashboard.services.meeting_sync").warning("Zoom said no")
    logging.getLogger("dashboard.services.meeting_sync").warning("between operations")
    first, second = _lines(capsys.readouterr().err)
    assert (first["operation_id"], second["operation_id"]) == (4711, None)
    assert first["request_id"] is None


def test_the_dev_server_s_colours_stay_out_of_json_lines(app, capsys):
    capsys.readouterr()
    logging.getLogger("werkzeug").info('"\x1b[35m\x1b[1mPOST /webhooks/zoom HTTP/1.1\x1b[0m" 200 -')
    [line] = _lines(capsys.readouterr().err)
    assert line["message"] == '"POST /webhooks/zoom HTTP/1.1" 200 -'


def test_text_format_is_plain_lines():
    record = logging.LogRecord("dashboard", logging.WARNING, __file__, 1, "plain %s", ("words",),
                               None)
    log_format.ContextFilter().filter(record)
    line = log_format._formatter("text").format(record)
    assert line.endswith("WARNING dashboard [None None] plain words")


def test_the_worker_s_records_name_the_operation_they_belong_to(app, world, capsys):
    from dashboard.services import meeting_sync
    from tests.booking_builders import new_booking

    new_booking(app, world.acme.id, ref="logged-1")  # Zoom is not connected: it waits
    capsys.readouterr()
    with app.app_context():
        assert meeting_sync.run_once("test-worker")
    records = [r for r in _lines(capsys.readouterr().err)
               if r["logger"].startswith("dashboard.services")]
    assert records and all(isinstance(r["operation_id"], int) for r in records), records
