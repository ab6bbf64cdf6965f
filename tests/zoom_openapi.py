"""Validate request bodies against Zoom's own OpenAPI (Swagger 2.0) file, in tests only.

Zoom's ``openapi.v2.json`` lives outside the repository (``../shared/zoom/``), so
production code never reads it. Tests use it like this::

    from tests.zoom_openapi import request_body_validator

    def test_create_body_is_what_zoom_accepts():
        validator = request_body_validator("meetingCreate")
        validator.validate(body)            # raises jsonschema.ValidationError
        assert not list(validator.iter_errors(body))

Any operation with an ``in: body`` parameter works ("meetingCreate", "meetingUpdate",
"userCreate", ...). ``$ref``s anywhere in the file resolve (the whole file is registered
as one schema resource), and ``allOf`` is plain JSON Schema. Swagger 2.0 schemas are a
dialect of JSON Schema draft 4, so Draft4Validator is used.

``format: date-time`` is checked with Zoom's rule, not RFC 3339: Zoom also accepts a
local time without an offset when ``timezone`` is given (``2026-12-01T10:00:00``).
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

OPENAPI_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "zoom" / "openapi.v2.json"

_SPEC_URI = "urn:zoom:openapi.v2.json"
_ZOOM_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def require_openapi() -> dict[str, Any]:
    """Load Zoom's OpenAPI file; skip the test when it is absent (fail under ``CI=true``)."""
    if not OPENAPI_PATH.is_file():
        message = "Zoom's OpenAPI file is not at ../shared/zoom/openapi.v2.json"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return _load(OPENAPI_PATH)


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    # Cached: the file is ~1 MB and several tests ask for validators.
    return json.loads(path.read_text(encoding="utf-8"))


def find_operation(spec: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """Return ``(path, method, operation)`` for ``operation_id``; KeyError if unknown."""
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return path, method, operation
    raise KeyError(f"no operation {operation_id!r} in Zoom's OpenAPI file")


def request_body_validator(operation_id: str) -> jsonschema.Draft4Validator:
    """A validator for the JSON body of ``operation_id`` (e.g. "meetingCreate").

    Skips (or fails under CI) like :func:`require_openapi` when the file is absent.
    """
    spec = require_openapi()
    path, method, operation = find_operation(spec, operation_id)
    for index, parameter in enumerate(operation.get("parameters", [])):
        if isinstance(parameter, dict) and parameter.get("in") == "body":
            pointer = "/".join(
                _escape(part) for part in ("paths", path, method, "parameters", str(index))
            )
            schema = {"$ref": f"{_SPEC_URI}#/{pointer}/schema"}
            return jsonschema.Draft4Validator(
                schema, registry=_registry(spec), format_checker=_format_checker()
            )
    raise KeyError(f"operation {operation_id!r} takes no body")


def _escape(part: str) -> str:
    # JSON Pointer escaping ("/" -> "~1"), then URL quoting for "{userId}" and friends.
    return quote(part.replace("~", "~0").replace("/", "~1"), safe="~")


def _registry(spec: dict[str, Any]) -> Registry:
    return Registry().with_resource(_SPEC_URI, Resource(contents=spec, specification=DRAFT4))


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(
        lambda value: not isinstance(value, str) or bool(_ZOOM_DATE_TIME.match(value))
    )
    checker.checks("date")(lambda value: not isinstance(value, str) or bool(_DATE.match(value)))
    return checker
