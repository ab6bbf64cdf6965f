"""Fixtures of the end-to-end tests: the app calls the live sandbox over real HTTP."""

import pytest

from tests.sandbox_control import connect


@pytest.fixture
def connected(client, auth, world, sandbox):
    """acme's admin signed in, and acme connected to Zoom through the consent page."""
    auth.sign_in_as(world.admin)
    assert b"Zoom connected" in connect(client, sandbox).data
    return world
