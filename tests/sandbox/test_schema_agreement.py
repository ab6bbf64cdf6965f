"""The hand-written meeting validation agrees with Zoom's own schema.

Reads Zoom's Swagger file (``../shared/zoom/openapi.v2.json`` beside the repository),
takes the request body of ``meetingCreate`` and ``meetingUpdate``, resolves ``$ref``,
and checks property by property: values the schema accepts, the sandbox accepts; values
of the wrong type or outside an enum, both refuse.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dashboard.sandbox.validation import validate_meeting

from .conftest import Sandbox

OPENAPI = Path(__file__).resolve().parents[2] / ".." / "shared" / "zoom" / "openapi.v2.json"
OPERATIONS = ("meetingCreate", "meetingUpdate")
# Realistic samples for string properties whose meaning Zoom constrains beyond "string".
STRING_SAMPLES = {"timezone": "America/Los_Angeles", "password": "Ab1@-_*", "schedule_for": ""}


def _spec() -> dict[str, Any]:
    if not OPENAPI.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Zoom OpenAPI file missing in CI: {OPENAPI}")
        pytest.skip("Zoom OpenAPI file not found at ../shared/zoom/openapi.v2.json")
    return json.loads(OPENAPI.read_text())


def _resolve(node: Any, spec: dict[str, Any]) -> Any:
    """Inline every local ``$ref`` (the meeting schemas have no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/definitions/")
            return _resolve(spec["definitions"][name], spec)
        return {key: _resolve(value, spec) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, spec) for item in node]
    return node


def body_schema(operation_id: str) -> dict[str, Any]:
    """The resolved request-body schema of an operation."""
    spec = _spec()
    for operations in spec["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                (body,) = [p for p in operation["parameters"] if p.get("in") == "body"]
                return _resolve(body["schema"], spec)
    raise AssertionError(f"operation {operation_id} not in {OPENAPI}")


def properties(schema: dict[str, Any]) -> dict[str, Any]:
    """Properties of a schema, merged across ``allOf``."""
    merged = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        merged.update(properties(part))
    return merged


def is_object(schema: dict[str, Any]) -> bool:
    return bool(properties(schema)) or schema.get("type") == "object"


def sample(name: str, schema: dict[str, Any]) -> Any:
    """A value the schema accepts (and a real client could send)."""
    if "enum" in schema:
        return schema["enum"][0]
    if is_object(schema):
        return {key: sample(key, sub) for key, sub in properties(schema).items()}
    kind = schema.get("type")
    if kind == "array":
        return [sample(name, schema.get("items", {}))]
    if kind == "boolean":
        return True
    if kind == "integer":
        return min(schema.get("maximum", 30), 30) if name != "weekly_days" else 2
    if schema.get("format") == "date-time":
        return "2030-03-01T10:00:00Z"
    return STRING_SAMPLES.get(name, "Sample text")


def wrong_values(schema: dict[str, Any]) -> list[Any]:
    """Values of the wrong type, or outside the enum."""
    if "enum" in schema:
        return [999 if isinstance(schema["enum"][0], int) else "not-a-choice"]
    if is_object(schema):
        return ["not-an-object", 7]
    kind = schema.get("type")
    return {
        "array": ["not-an-array"],
        "boolean": ["yes", 1],
        "integer": ["abc", 2.5, True],
        "string": [12345, False],
    }.get(kind, [])


def leaves(schema: dict[str, Any], path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple, dict]]:
    """Every property path with its schema, containers included."""
    for name, sub in properties(schema).items():
        here = (*path, name)
        yield here, sub
        if is_object(sub):
            yield from leaves(sub, here)
        elif sub.get("type") == "array" and is_object(sub.get("items", {})):
            yield from leaves(sub["items"], (*here, 0))


def body_with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The smallest body that sets ``path`` to ``value``."""
    for key in reversed(path):
        value = [value] if isinstance(key, int) else {key: value}
    return value


@pytest.mark.parametrize("operation", OPERATIONS)
def test_values_the_schema_accepts_are_accepted(operation: str) -> None:
    schema = body_schema(operation)
    validator = jsonschema.Draft4Validator(schema)
    checked = 0
    for path, sub in leaves(schema):
        candidates = list(sub.get("enum", [])) or [sample(str(path[-1]), sub)]
        for value in candidates:
            body = body_with(path, value)
            assert validator.is_valid(body), (path, value)
            assert validate_meeting(body) == [], (path, value)
            checked += 1
    full = sample("body", schema)
    assert validator.is_valid(full) and validate_meeting(full) == []
    assert checked > 40


@pytest.mark.parametrize("operation", OPERATIONS)
def test_values_the_schema_refuses_are_refused(operation: str) -> None:
    schema = body_schema(operation)
    validator = jsonschema.Draft4Validator(schema)
    checked = 0
    for path, sub in leaves(schema):
        top = str(path[0])
        for value in wrong_values(sub):
            body = body_with(path, value)
            assert not validator.is_valid(body), (path, value)
            errors = validate_meeting(body)
            assert errors, f"sandbox accepted {body} that Zoom's schema refuses"
            assert all(e["field"].startswith(top) for e in errors), errors
            checked += 1
    assert checked > 40


def test_schema_valid_bodies_work_over_http(sandbox: Sandbox, token: str) -> None:
    create = sample("body", body_schema("meetingCreate"))
    create.pop("schedule_for")  # scheduling for a colleague is covered in test_meetings
    created = sandbox.api("POST", "/users/me/meetings", token, json=create)
    assert created.status_code == 201, created.text
    update = sample("body", body_schema("meetingUpdate"))
    update.pop("schedule_for")
    answer = sandbox.api("PATCH", f"/meetings/{created.json()['id']}", token, json=update)
    assert answer.status_code == 204, answer.text
    refused = sandbox.api("POST", "/users/me/meetings", token, json={"type": "two"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "type"


def test_missing_schema_file_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(f"{__name__}.OPENAPI", tmp_path / "absent.json")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Zoom OpenAPI file not found"):
        _spec()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        _spec()
