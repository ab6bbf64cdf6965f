"""Adding someone to a workspace is an invitation they accept; the admin learns nothing about
addresses outside the workspace, and the link works once, for a week."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import AuditEvent, Invitation, Membership, User
from dashboard.orm import utcnow
from tests.conftest import PASSWORD, make_user

LINK = re.compile(r"(https?://[^\s\"<]+/invitations/accept\?token=([A-Za-z0-9_\-]+))")
ISSUED = re.compile(r'<section id="invitation-issued".*?</section>', re.S)
TIME = re.compile(r"<time [^>]*>[^<]*</time>")
NEW_PASSWORD = "a long first password"


@pytest.fixture
def dana(app, world) -> User:
    """A user of Globex only, with a name nobody in Acme should ever see before she joins."""
    with app.app_context():
        user = make_user("dana@globex.test", "Dana Distinctive")
        db.session.add(Membership(user=user, workspace_id=world.globex.id, role="operator"))
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def _invite(client, email: str, role: str = "operator", **extra):
    return client.post("/settings/members", data={"email": email, "role": role, **extra})


def _link(response) -> tuple[str, str]:
    match = LINK.search(response.data.decode())
    assert match, response.data[:2000]
    return match.group(1), match.group(2)


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _members_of(app, workspace) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(User.email).join(Membership).where(
            Membership.workspace_id == workspace.id)))


def _open(client, url: str):
    """Follow an invitation link the way a browser does (it drops the token from the URL)."""
    parts = urlsplit(url)
    first = client.get(f"{parts.path}?{parts.query}")
    assert first.status_code == 302
    assert first.headers["Location"] == "/invitations/accept"
    return client.get("/invitations/accept")


def test_adding_an_address_answers_the_same_with_or_without_an_account(app, client, auth,
                                                                       world, dana):
    auth.sign_in_as(world.admin)
    answers = []
    for email in ("dana@globex.test", "nobody@elsewhere.test"):
        response = _invite(client, email)
        assert response.status_code == 201
        _, token = _link(response)
        page = response.data.decode()
        assert "Dana Distinctive" not in page and "has no Lakesis account" not in page
        notice = ISSUED.search(page)
        assert notice, page
        notice = TIME.sub("TIME", notice.group(0))
        answers.append(notice.replace(email, "EMAIL").replace(token, "TOKEN"))
    assert answers[0] == answers[1]
    assert "Invitation created for EMAIL" in answers[0]
    assert "share this link" in answers[0].lower()
    assert "dana@globex.test" not in _members_of(app, world.acme)  # not added without asking
    assert "Dana Distinctive" not in client.get("/settings/members").data.decode()
    assert _actions(app) == ["member.invited", "member.invited"]


def test_the_link_is_shown_once_and_pending_invitations_are_listed(app, client, auth, world):
    auth.sign_in_as(world.admin)
    _, token = _link(_invite(client, "new@acme.test", "support"))
    page = client.get("/settings/members").data.decode()
    assert token not in page
    assert "new@acme.test" in page and "Revoke" in page and "Support" in page
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.token_hash != token
        assert invitation.expires_at - invitation.created_at == timedelta(days=7)


def test_an_existing_user_signs_in_then_accepts(app, client, auth, world, dana):
    auth.sign_in_as(world.admin)
    url, _ = _link(_invite(client, "dana@globex.test", "support"))
    invitee = app.test_client()
    page = _open(invitee, url)
    assert page.status_code == 200
    assert b"Acme Clinic" in page.data and b"Sign in to accept" in page.data
    signed_in = invitee.post("/login?next=/invitations/accept",
                             data={"email": "dana@globex.test", "password": PASSWORD})
    assert signed_in.headers["Location"] == "/invitations/accept"
    page = invitee.get("/invitations/accept")
    assert b"Join Acme Clinic as support" in page.data
    accepted = invitee.post("/invitations/accept")
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/"
    assert b"You joined Acme Clinic" in invitee.get("/").data  # now working in Acme
    with app.app_context():
        membership = db.session.scalar(select(Membership).filter_by(
            user_id=dana.id, workspace_id=world.acme.id))
        assert membership.role == "support"
        assert db.session.scalar(select(Invitation.accepted_at)) is not None
    assert _actions(app)[-2:] == ["invitation.accepted", "member.added"]
    # a used link is dead
    assert b"no longer valid" in _open(app.test_client(), url).data


def test_a_new_person_chooses_a_name_and_password_and_joins(app, client, auth, world):
    auth.sign_in_as(world.admin)
    url, _ = _link(_invite(client, "New.Person@acme.test", "operator"))
    invitee = app.test_client()
    page = _open(invitee, url)
    assert b"new.person@acme.test" in page.data and b"Choose a password" in page.data
    response = invitee.post("/invitations/accept/new-account", data={
        "name": "New Person", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302, response.data[:500]
    assert b"Acme Clinic" in invitee.get("/").data
    assert "new.person@acme.test" in _members_of(app, world.acme)
    assert auth.logout().status_code == 302
    assert auth.login("new.person@acme.test", NEW_PASSWORD).status_code == 302
    assert _actions(app) == ["member.invited", "account.created", "invitation.accepted",
                             "member.added"]


def test_signing_up_for_an_address_that_has_an_account_asks_to_sign_in(app, client, auth,
                                                                         world, dana):
    auth.sign_in_as(world.admin)
    url, _ = _link(_invite(client, "dana@globex.test"))
    invitee = app.test_client()
    _open(invitee, url)
    response = invitee.post("/invitations/accept/new-account", data={
        "name": "Someone", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 409
    assert b"sign in to accept" in response.data.lower()
    assert "dana@globex.test" not in _members_of(app, world.acme)
    with app.app_context():
        assert db.session.get(User, dana.id).check_password(PASSWORD)  # not overwritten


def test_someone_signed_in_as_another_address_cannot_accept(app, client, auth, world, dana):
    auth.sign_in_as(world.admin)
    url, _ = _link(_invite(client, "dana@globex.test"))
    other = app.test_client()
    other.post("/login", data={"email": "admin@globex.test", "password": PASSWORD})
    page = _open(other, url)
    assert b"This invitation is for another address" in page.data
    assert other.post("/invitations/accept").status_code == 403
    assert "admin@globex.test" not in _members_of(app, world.acme)
    assert "dana@globex.test" not in _members_of(app, world.acme)


@pytest.mark.parametrize("spoil", ["expire", "revoke"])
def test_an_expired_or_revoked_link_is_refused(app, client, auth, world, spoil):
    auth.sign_in_as(world.admin)
    url, _ = _link(_invite(client, "late@acme.test"))
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
        if spoil == "expire":
            db.session.execute(update(Invitation).values(expires_at=utcnow()))
            db.session.commit()
    if spoil == "revoke":
        response = client.post("/settings/members/invitations/revoke",
                               data={"invitation_id": invitation_id})
        assert response.status_code == 302
        assert b'id="invitation-rows"' not in client.get("/settings/members").data
        assert _actions(app)[-1] == "invitation.revoked"
    invitee = app.test_client()
    page = _open(invitee, url)
    assert page.status_code == 404
    assert b"no longer valid" in page.data
    response = invitee.post("/invitations/accept/new-account", data={
        "name": "Late", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(User).filter_by(email="late@acme.test")) is None


def test_an_unknown_token_is_refused(client):
    page = _open(client, "http://localhost/invitations/accept?token=made-up")
    assert page.status_code == 404
    assert b"no longer valid" in page.data


def test_inviting_a_member_again_or_twice_is_a_conflict(app, client, auth, world):
    auth.sign_in_as(world.admin)
    member = _invite(client, "support@acme.test")
    assert member.status_code == 409
    assert b"already a member" in member.data
    assert _invite(client, "twice@acme.test").status_code == 201
    again = _invite(client, "TWICE@acme.test")
    assert again.status_code == 409
    assert b"already invited" in again.data
    assert LINK.search(again.data.decode()) is None


def test_an_expired_invitation_can_be_made_again(app, client, auth, world):
    auth.sign_in_as(world.admin)
    _invite(client, "again@acme.test")
    with app.app_context():
        db.session.execute(update(Invitation).values(expires_at=utcnow()))
        db.session.commit()
    assert _invite(client, "again@acme.test").status_code == 201


def test_revoking_another_workspaces_invitation_is_not_found(app, client, auth, world):
    auth.sign_in_as(world.outsider)  # admin of globex
    _invite(client, "theirs@globex.test")
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    auth.sign_in_as(world.admin)
    response = client.post("/settings/members/invitations/revoke",
                           data={"invitation_id": invitation_id})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Invitation.revoked_at)) is None


@pytest.mark.parametrize("invitation_id", ["", "abc", "99999999999999999999999"])
def test_revoking_with_a_bad_id_is_not_found(client, auth, world, invitation_id):
    auth.sign_in_as(world.admin)
    response = client.post("/settings/members/invitations/revoke",
                           data={"invitation_id": invitation_id})
    assert response.status_code == 404


def test_bad_invitation_input_gets_field_errors_and_writes_nothing(app, client, auth, world):
    auth.sign_in_as(world.admin)
    response = _invite(client, "not an email", "owner")
    assert response.status_code == 422
    assert b"Enter a valid email." in response.data and b"Not a valid choice" in response.data
    nul = _invite(client, "a\x00b@acme.test")
    assert nul.status_code == 422
    assert _actions(app) == []


def test_a_nul_or_control_character_in_the_new_name_is_a_form_error(app, client, auth, world):
    auth.sign_in_as(world.admin)
    url, _ = _link(_invite(client, "nul@acme.test"))
    invitee = app.test_client()
    _open(invitee, url)
    response = invitee.post("/invitations/accept/new-account", data={
        "name": "Nul\x00Name", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 422
    assert b"must not contain control characters" in response.data
    with app.app_context():
        assert db.session.scalar(select(User).filter_by(email="nul@acme.test")) is None


def test_the_token_never_reaches_the_logs_or_the_audit_trail(app, client, auth, world, caplog):
    caplog.set_level(logging.DEBUG)
    auth.sign_in_as(world.admin)
    url, token = _link(_invite(client, "quiet@acme.test"))
    invitee = app.test_client()
    _open(invitee, url)
    invitee.post("/invitations/accept/new-account", data={
        "name": "Quiet", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert token not in caplog.text
    with app.app_context():
        trail = " ".join(str((e.details, e.target_label)) for e in
                         db.session.scalars(select(AuditEvent)))
    assert token not in trail
