"""The OpenAPI document: public, complete, and internally consistent."""

from __future__ import annotations

import re

from jsonschema import Draft4Validator

from dashboard.api.openapi import DOCUMENT
from tests.api.api_client import CONTRACT, ApiClient

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _documented() -> set[tuple[str, str]]:
    return {(path, method) for path, item in DOCUMENT["paths"].items()
            for method in item if method in HTTP_METHODS}


def test_document_is_served_without_a_key(app):
    response = ApiClient(app, key=None).get("openapi.json")
    assert response.status_code == 200
    assert response.get_json() == DOCUMENT
    assert response.get_json()["openapi"].startswith("3.0.")


def test_every_route_of_the_api_blueprint_is_documented_and_nothing_else(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "api":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
        routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == _documented()


def test_every_api_view_says_it_needs_a_key_except_the_description(app):
    access = {endpoint: getattr(view, "access", None)
              for endpoint, view in app.view_functions.items() if endpoint.startswith("api.")}
    assert access.pop("api.openapi_document") == "public"
    assert access and all(rule == "api_key" for rule in access.values()), access


def test_every_ref_resolves_and_every_operation_is_complete():
    refs = re.findall(r"'\$ref': '([^']+)'", repr(DOCUMENT))
    assert refs
    for ref in refs:
        CONTRACT.component(ref)  # KeyError if it points nowhere
    operation_ids = []
    for path, method in _documented():
        item = DOCUMENT["paths"][path]
        operation = item[method]
        operation_ids.append(operation["operationId"])
        assert operation["summary"] and operation["responses"]
        declared = {p["name"] for p in item.get("parameters", []) + operation.get(
            "parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), path
        if method in ("post", "patch") and "requestBody" in operation:
            for status in ("413", "415", "422"):
                assert status in operation["responses"], (path, method, status)
        if operation.get("security") != []:
            assert "401" in operation["responses"], (path, method)
    assert len(operation_ids) == len(set(operation_ids))


def test_bearer_security_scheme_applies_by_default():
    assert DOCUMENT["components"]["securitySchemes"]["apiKey"] == {
        "type": "http", "scheme": "bearer", "description": "A workspace API key (lks_...)."}
    assert DOCUMENT["security"] == [{"apiKey": []}]


def test_schemas_are_valid_json_schema():
    for schema in CONTRACT.schema_doc["components"]["schemas"].values():
        Draft4Validator.check_schema(schema)


def test_the_contract_check_rejects_an_undocumented_field():
    validator = CONTRACT.validator({"$ref": CONTRACT.schema_doc["paths"]["/bookings/{booking_id}"]
                                    ["get"]["responses"]["200"]["content"]["application/json"]
                                    ["schema"]["$ref"]})
    booking = {"id": "x", "external_ref": "r", "kind": "booking", "title": "t",
               "start_time": "2026-12-01T09:00:00Z", "duration_minutes": 30,
               "timezone": "UTC", "host_email": None,
               "customer": {"name": "A", "email": "a@example.test"}, "state": "active",
               "created_at": "2026-11-01T09:00:00Z", "updated_at": "2026-11-01T09:00:00Z",
               "meeting": {"status": "pending", "join_url": None, "zoom_meeting_id": None,
                           "last_synced_at": None, "last_error": None}}
    assert validator.is_valid(booking)
    leaky = {**booking, "meeting": {**booking["meeting"], "start_url": "https://zoom.us/s/1"}}
    assert not validator.is_valid(leaky)
    assert not validator.is_valid({**booking, "start_time": "2026-12-01T10:00:00+01:00"})
