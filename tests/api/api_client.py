"""A JSON client for `/api/v1` that checks every answer against the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from dashboard.api.openapi import DOCUMENT
from tests.api.contract import Contract

CONTRACT = Contract(DOCUMENT)
UNSET: Any = object()


class ApiClient:
    """Calls the API with a Bearer key and no cookies, like the booking workflow does."""

    def __init__(self, app: Flask, key: str | None) -> None:
        self.http = FlaskClient(app, app.response_class, use_cookies=False)
        self.key = key

    def request(self, method: str, path: str, json: Any = UNSET, key: Any = UNSET,
                **kwargs: Any) -> TestResponse:
        """``path`` is relative to /api/v1 unless it starts with a slash."""
        headers = dict(kwargs.pop("headers", None) or {})
        key = self.key if key is UNSET else key
        if key is not None:
            headers.setdefault("Authorization", f"Bearer {key}")
        if json is not UNSET:
            kwargs["json"] = json
        url = path if path.startswith("/") else f"/api/v1/{path}"
        response = self.http.open(url, method=method, headers=headers, **kwargs)
        CONTRACT.check(method, url, response)
        return response

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = UNSET, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = UNSET, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", path, json=json, **kwargs)
