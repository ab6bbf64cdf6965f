"""Fixtures for the web tests that call Zoom over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses


@pytest.fixture
def zoom() -> Iterator[responses.RequestsMock]:
    """Zoom over HTTP, mocked: a request nobody registered fails like a refused connection,
    so a test that registers nothing proves no call leaves for Zoom."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
