"""The flask commands a newcomer and an operator of the service use."""

from __future__ import annotations

from cryptography.fernet import Fernet

from dashboard import token_cipher
from dashboard.extensions import db
from dashboard.models import ApiKey, Membership, User, ZoomConnection
from dashboard.services import api_keys


def test_create_user_joins_a_new_workspace_as_admin(app, runner):
    result = runner.invoke(args=["create-user", "--email", "Boss@Clinic.test", "--name", "Boss",
                                 "--password", "a long password", "--workspace", "clinic"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(db.select(User).filter_by(email="boss@clinic.test")).one()
        membership = db.session.scalars(db.select(Membership).filter_by(user_id=user.id)).one()
        assert membership.role == "admin" and membership.workspace.slug == "clinic"


def test_create_user_refuses_a_short_password_and_writes_nothing(app, runner):
    result = runner.invoke(args=["create-user", "--email", "x@clinic.test",
                                 "--password", "short", "--workspace", "clinic"])
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    with app.app_context():
        assert db.session.scalars(db.select(User)).first() is None


def test_api_key_is_printed_once_and_works(app, runner, world):
    result = runner.invoke(args=["api-keys", "create", "acme", "workflow"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    with app.app_context():
        key = api_keys.authenticate(secret)
        assert key is not None and key.workspace_id == world.acme.id
        assert db.session.scalars(db.select(ApiKey)).one().key_hash != secret


def test_api_key_for_an_unknown_workspace_is_a_clear_error(runner, world):
    result = runner.invoke(args=["api-keys", "create", "nope", "workflow"])
    assert result.exit_code != 0 and "no workspace with slug 'nope'" in result.output


def test_rotate_token_keys_re_encrypts_with_the_new_first_key(app, runner, world, monkeypatch):
    with app.app_context():
        db.session.add(ZoomConnection(workspace_id=world.acme.id, status="connected",
                                      refresh_token_enc=token_cipher.encrypt("refresh-1")))
        db.session.commit()
    old = app.config["TOKEN_ENCRYPTION_KEYS"]
    new = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "TOKEN_ENCRYPTION_KEYS", (new, *old))
    result = runner.invoke(args=["zoom", "rotate-token-keys"])
    assert "re-encrypted 1 values" in result.output
    monkeypatch.setitem(app.config, "TOKEN_ENCRYPTION_KEYS", (new,))  # old keys dropped
    with app.app_context():
        row = db.session.scalars(db.select(ZoomConnection)).one()
        assert token_cipher.decrypt(row.refresh_token_enc) == "refresh-1"


def test_rotate_token_keys_re_encrypts_webhook_secrets_too(app, runner, world, monkeypatch):
    from dashboard.models import WebhookEndpoint

    with app.app_context():
        db.session.add(WebhookEndpoint(workspace_id=world.acme.id, url="https://h.test/in",
                                       event_types="meeting.ready",
                                       secret_enc=token_cipher.encrypt("whsec_one"),
                                       previous_secret_enc=token_cipher.encrypt("whsec_zero")))
        db.session.commit()
    old = app.config["TOKEN_ENCRYPTION_KEYS"]
    new = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "TOKEN_ENCRYPTION_KEYS", (new, *old))
    assert "re-encrypted 2 values" in runner.invoke(args=["zoom", "rotate-token-keys"]).output
    monkeypatch.setitem(app.config, "TOKEN_ENCRYPTION_KEYS", (new,))
    with app.app_context():
        row = db.session.scalars(db.select(WebhookEndpoint)).one()
        assert token_cipher.decrypt(row.secret_enc) == "whsec_one"
        assert token_cipher.decrypt(row.previous_secret_enc) == "whsec_zero"
