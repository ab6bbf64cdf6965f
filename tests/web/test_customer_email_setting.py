"""Settings > Integrations > Customer email: off by default, admins only, CSRF, audited,
and a bad value named."""

from __future__ import annotations

import pytest

from dashboard.extensions import db
from dashboard.models import AuditEvent
from dashboard.services.mail_settings import emails_customers

URL = "/settings/integrations/customer-email"


def _actions(app, workspace_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEvent.action).where(
            AuditEvent.workspace_id == workspace_id).order_by(AuditEvent.id)))


def _on(app, workspace_id: int) -> bool:
    with app.app_context():
        return emails_customers(workspace_id)


def test_off_by_default_and_an_admin_turns_it_on_and_off_audited(app, client, auth, world):
    auth.sign_in_as(world.admin)
    page = client.get("/settings/integrations").get_data(as_text=True)
    assert "Customer email" in page
    assert ('checked id="email_customers-1" name="email_customers" required type="radio" '
            'value="off"') in page
    response = client.post(URL, data={"email_customers": "on"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/settings/integrations#customer-email")
    assert _on(app, world.acme.id)
    assert client.post(URL, data={"email_customers": "on"}).status_code == 302  # no change
    client.post(URL, data={"email_customers": "off"})
    assert not _on(app, world.acme.id)
    assert _actions(app, world.acme.id) == ["workspace.customer_email_on",
                                            "workspace.customer_email_off"]


@pytest.mark.parametrize("role", ["operator", "support"])
def test_only_admins_may_change_it(app, client, auth, world, role):
    auth.sign_in_as(getattr(world, role))
    assert client.post(URL, data={"email_customers": "on"}).status_code == 403
    assert not _on(app, world.acme.id)
    page = client.get("/settings/integrations").get_data(as_text=True)
    assert 'id="customer-email-status">Off' in page and "Only admins can change this" in page


def test_without_a_csrf_token_nothing_changes(app, client, auth, world):
    auth.sign_in_as(world.admin)
    assert client.post(URL, data={"email_customers": "on"}, csrf=False).status_code == 400
    assert not _on(app, world.acme.id)


@pytest.mark.parametrize("value", [None, "maybe", "1"])
def test_a_bad_value_is_a_form_error_naming_the_field(app, client, auth, world, value):
    auth.sign_in_as(world.admin)
    response = client.post(URL, data={} if value is None else {"email_customers": value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email_customers-error"' in page
    assert not _on(app, world.acme.id) and _actions(app, world.acme.id) == []


def test_another_workspaces_admin_changes_only_their_own(app, client, auth, world):
    auth.sign_in_as(world.outsider)
    client.post(URL, data={"email_customers": "on"})
    assert _on(app, world.globex.id) and not _on(app, world.acme.id)
