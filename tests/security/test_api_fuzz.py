"""The booking API fuzzed from its own OpenAPI document with schemathesis.

Every operation of ``/api/v1`` gets bounded, derandomized cases, valid and invalid, with a
valid key of the acme workspace. A path's ``booking_id`` is sometimes what schemathesis
made up, sometimes one of acme's bookings (so reschedules and cancels reach a real record)
and sometimes one of globex's (which must stay a 404). Each answer must not be a 5xx, must
carry a documented status code, content type and headers, and a body its schema allows; a
request that breaks the schema must be refused.

What it tried and what held is printed at the end of the run (``tests/security/tally.py``).
"""

from __future__ import annotations

import copy
import zlib
from datetime import timedelta

import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis.internal.conjecture import providers
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dashboard.api.openapi import DOCUMENT
from dashboard.extensions import db
from dashboard.models import Booking, Workspace
from dashboard.orm import utcnow
from dashboard.services import api_keys
from dashboard.services.audit import Actor
from tests.booking_builders import new_booking
from tests.security import tally

SUITE = "api fuzzing"
TARGETS = ("generated", "own", "other")
# Per operation and generation mode, after the coverage phase's boundary cases: about a
# thousand requests in all, under a minute in-process on either database.
MAX_EXAMPLES = 150
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]

CONFIG = schemathesis.Config.from_dict({
    # The key is the test's to send (schemathesis would otherwise leave it out to make a
    # case invalid); unknown query parameters are ignored by design, not refused.
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True,
                   "database": "none", "with-security-parameters": False,
                   "allow-extra-parameters": False},
    # Coverage's boundary values run first, then fuzzing; the stateful phase needs links
    # the document does not declare.
    "phases": {"stateful": {"enabled": False}},
})
# A copy: schemathesis resolves references in place, and DOCUMENT is what the API serves.
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=CONFIG)


@pytest.fixture
def fuzz_target(app, world) -> dict[str, str]:
    """acme's key, one booking of acme's and one of globex's (their public ids)."""
    with app.app_context():
        secret = api_keys.issue(db.session.get(Workspace, world.acme.id), Actor.system(),
                                "fuzzer", None).secret
    own = new_booking(app, world.acme.id, ref="fuzz-own", hours=72)
    other = new_booking(app, world.globex.id, ref="fuzz-other", hours=72)
    with app.app_context():
        return {"key": secret, "own": db.session.get(Booking, own).public_id,
                "other": db.session.get(Booking, other).public_id}



def _aim(case, fuzz_target: dict[str, str]) -> str:
    """Point a third of the cases at acme's booking and a third at globex's, chosen from
    the generated id itself, so the choice is as deterministic as the cases are."""
    path = case.path_parameters or {}
    # Only valid cases: a case made to break the schema must stay broken.
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return "generated"
    if not isinstance(path.get("booking_id"), str):
        return "generated"
    target = TARGETS[zlib.crc32(path["booking_id"].encode("utf-8", "replace")) % 3]
    if target != "generated":
        path["booking_id"] = fuzz_target[target]
    return target


@pytest.fixture(autouse=True)
def _same_cases_whatever_else_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hypothesis mixes in constants from whichever of our modules are imported at the
    time, so the cases would depend on which other tests ran first: use none of them."""
    monkeypatch.setattr(providers, "_get_local_constants", providers.Constants)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(app, fuzz_target, case):
    target = _aim(case, fuzz_target)
    headers = {"Authorization": f"Bearer {fuzz_target['key']}"}
    suites = (SUITE, f"{SUITE} {case.operation.label}")
    for suite in suites:
        tally.tried(suite)
    response = case.call(app=app, headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    if target == "other":
        # Documented, but a 2xx or a 409 would be a leak across workspaces (a body refused
        # before the lookup answers the same for any id, so it tells nothing).
        assert response.status_code in (404, 413, 415, 422), (
            f"globex's booking answered {response.status_code}")
    if target == "own":
        assert response.status_code != 404, "acme's own booking was not found"
    for suite in suites:
        tally.held(suite)


def test_fuzzing_reached_real_bookings(app, world):
    """The fuzzer above only proves something if real records are in reach: the same
    substitution gives a 200 for acme's booking and a 404 for globex's."""
    own = new_booking(app, world.acme.id, ref="reach-own", hours=72)
    other = new_booking(app, world.globex.id, ref="reach-other", hours=72)
    with app.app_context():
        secret = api_keys.issue(db.session.get(Workspace, world.acme.id), Actor.system(),
                                "fuzzer", None).secret
        ids = [db.session.get(Booking, pk).public_id for pk in (own, other)]
    client = FlaskClient(app, app.response_class, use_cookies=False)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"/api/v1/bookings/{ids[0]}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/bookings/{ids[1]}", headers=headers).status_code == 404
    later = (utcnow() + timedelta(days=4)).replace(microsecond=0).isoformat()
    moved = client.patch(f"/api/v1/bookings/{ids[0]}", headers=headers,
                         json={"start_time": later})
    assert moved.status_code == 200
