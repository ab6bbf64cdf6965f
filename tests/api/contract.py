"""Check the API's answers against its own OpenAPI document (tests only).

``Contract.check(method, path, response)`` finds the documented operation for a request
path (``/api/v1/bookings/abc`` -> ``/bookings/{booking_id}``), picks the response by
status, and validates the JSON body with ``jsonschema``. OpenAPI 3.0 schemas are a
dialect of JSON Schema draft 4 plus ``nullable``, which is rewritten to ``type: [T, null]``;
every ``#/components/...`` ref resolves against the whole document.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from werkzeug.test import TestResponse

URI = "urn:lakesis:api:openapi.json"
# Every date-time the API answers with is UTC to the second with a Z (serializers.timestamp).
_ANSWER_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FORMATS = FormatChecker(formats=["idn-email"])
FORMATS.checks("date-time")(lambda value: not isinstance(value, str)
                            or bool(_ANSWER_DATE_TIME.match(value)))


def as_json_schema(node: Any) -> Any:
    """The document with ``nullable`` spelled in JSON Schema and every ref made absolute."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        node["$ref"] = URI + ref
    if node.pop("nullable", False) is True:
        if "type" in node:
            node["type"] = [node["type"], "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
    return node


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schema_doc = as_json_schema(document)
        self.registry = Registry().with_resource(
            URI, Resource(contents=self.schema_doc, specification=DRAFT4))
        self.prefix = document["servers"][0]["url"].rstrip("/")
        self.templates = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in document["paths"]]

    def validator(self, schema: dict[str, Any]) -> Draft4Validator:
        return Draft4Validator(schema, registry=self.registry, format_checker=FORMATS)

    def component(self, ref: str) -> dict[str, Any]:
        """The object a local ``#/components/...`` ref points to."""
        node: Any = self.schema_doc
        for part in ref.removeprefix(URI).removeprefix("#/").split("/"):
            node = node[part]
        return node

    def path_template(self, path: str) -> str | None:
        """The documented path (without the server prefix) that ``path`` is an instance of."""
        if not path.startswith(self.prefix + "/"):
            return None
        local = path[len(self.prefix):].split("?", 1)[0]
        return next((template for pattern, template in self.templates
                     if pattern.match(local)), None)

    def response_spec(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        """The documented response, or None when the path and method are not documented."""
        template = self.path_template(path)
        operation = self.schema_doc["paths"].get(template, {}).get(method.lower())
        if operation is None:
            return None
        responses = operation["responses"]
        assert str(status) in responses, (
            f"{method} {template} answered {status}, which the OpenAPI document does not list")
        spec = responses[str(status)]
        return self.component(spec["$ref"]) if "$ref" in spec else spec

    def check(self, method: str, path: str, response: TestResponse) -> None:
        """Assert ``response`` is what the document promises for this request."""
        spec = self.response_spec(method, path, response.status_code)
        if spec is None:
            # Undocumented addresses and methods answer with the common error shape.
            assert response.status_code in (404, 405), (method, path, response.status_code)
            schema = {"$ref": f"{URI}#/components/schemas/Error"}
        else:
            for header in spec.get("headers", {}):
                assert header in response.headers, f"{header} missing on {method} {path}"
            if "application/json" not in spec["content"]:
                # A documented non-JSON answer (the .ics): its type is the one promised.
                assert response.mimetype in spec["content"], (method, path, response.mimetype)
                return
            schema = spec["content"]["application/json"]["schema"]
        assert response.mimetype == "application/json", (method, path, response.mimetype)
        errors = sorted(self.validator(schema).iter_errors(response.get_json()), key=str)
        assert not errors, f"{method} {path} -> {response.status_code}: " + "; ".join(
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors)
