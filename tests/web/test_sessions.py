"""Sessions live on the server: sign-out, "sign out everywhere", a password change and an
admin removing a member end them, and a copied cookie dies with the session it names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import AuditEvent, User, UserSession
from dashboard.orm import utcnow
from tests.conftest import PASSWORD

HX = {"HX-Request": "true"}
NEW_PASSWORD = "a brand new password"


def _cookie(client, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _with_cookies(app, **cookies: str):
    """Another browser that holds copies of these cookies (an attacker's, say)."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def _sessions_of(app, user) -> list[UserSession]:
    with app.app_context():
        return list(db.session.scalars(select(UserSession).filter_by(user_id=user.id)))


@pytest.fixture
def login(auth):
    """Sign in through the form, optionally ticking "keep me signed in"."""

    def sign_in(email: str = "admin@acme.test", password: str = PASSWORD,
                remember: bool = False, client=None):
        target = client or auth.client
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        response = target.post("/login", data=data)
        assert response.status_code == 302, response.data[:300]
        return response

    return sign_in


def test_sign_out_kills_a_copied_session_cookie(app, client, auth, world, login):
    login()
    stolen = _cookie(client, "session")
    assert _signed_in(_with_cookies(app, session=stolen))
    auth.logout()
    assert not _signed_in(_with_cookies(app, session=stolen))
    assert _sessions_of(app, world.admin) == []


def test_remember_me_is_new_at_every_sign_in_and_dies_at_sign_out(app, client, world, login):
    login(remember=True)
    first = _cookie(client, "remember_token")
    other = app.test_client()
    login(remember=True, client=other)
    second = _cookie(other, "remember_token")
    assert first != second
    assert _signed_in(_with_cookies(app, remember_token=first))
    response = client.post("/logout")
    assert "remember_token=;" in " ".join(response.headers.getlist("Set-Cookie"))
    assert not _signed_in(_with_cookies(app, remember_token=first))
    assert _signed_in(_with_cookies(app, remember_token=second))  # the other device stays


def test_remember_me_is_bounded_on_the_server(app, client, world, login):
    login(remember=True)
    remembered = _cookie(client, "remember_token")
    [row] = _sessions_of(app, world.admin)
    assert row.remembered
    assert timedelta(days=29) < row.expires_at - row.created_at <= timedelta(days=30)
    with app.app_context():
        db.session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert not _signed_in(_with_cookies(app, remember_token=remembered))
    assert not _signed_in(client)


def test_a_session_without_remember_me_lasts_twelve_hours(app, client, world, login):
    login()
    [row] = _sessions_of(app, world.admin)
    assert not row.remembered
    assert row.expires_at - row.created_at == timedelta(hours=12)
    assert client.get_cookie("remember_token") is None


def _session_token(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def test_every_sign_in_gets_a_new_session_id(app, client, auth, world, login):
    client.get("/login")
    planted = _cookie(client, "session")  # a cookie from before sign-in (fixation)
    login()
    first = _session_token(client)
    auth.logout()
    login()
    second = _session_token(client)
    assert first and second and first != second
    assert str(world.admin.id) not in (first, second)
    assert not _signed_in(_with_cookies(app, session=planted))


def test_sign_out_everywhere_ends_every_session_of_the_user(app, client, world, login):
    login()
    laptop = _cookie(client, "session")
    phone = app.test_client()
    login(remember=True, client=phone)
    phone_remember = _cookie(phone, "remember_token")
    operator = app.test_client()
    login("operator@acme.test", client=operator)
    page = client.get("/account")
    assert page.status_code == 200
    assert b"Sign out everywhere" in page.data
    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    for cookies in ({"session": laptop}, {"remember_token": phone_remember}):
        assert not _signed_in(_with_cookies(app, **cookies))
    assert not _signed_in(phone)
    assert _signed_in(operator)  # someone else's sessions are theirs
    assert _sessions_of(app, world.admin) == []


def test_account_page_lists_this_users_sessions_and_ends_one(app, client, world, login):
    login()
    other = app.test_client()
    login(remember=True, client=other)
    page = client.get("/account").data.decode()
    assert page.count('name="session_id"') == 1  # "this device" is signed out, not ended
    assert "This device" in page
    _, that_one = sorted(_sessions_of(app, world.admin), key=lambda s: s.id)
    response = client.post("/account/sessions/end", data={"session_id": that_one.id})
    assert response.status_code == 302
    assert not _signed_in(other)
    assert _signed_in(client)


def test_ending_another_users_session_is_not_found(app, client, world, login):
    operator = app.test_client()
    login("operator@acme.test", client=operator)
    [theirs] = _sessions_of(app, world.operator)
    login()
    response = client.post("/account/sessions/end", data={"session_id": theirs.id})
    assert response.status_code == 404
    assert _signed_in(operator)


def test_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, auth, world,
                                                                     login):
    login()
    other = app.test_client()
    login(remember=True, client=other)
    other_remember = _cookie(other, "remember_token")
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302, response.data[:400]
    assert _signed_in(client)
    assert not _signed_in(other)
    assert not _signed_in(_with_cookies(app, remember_token=other_remember))
    auth.logout()
    assert auth.login("admin@acme.test").status_code == 401
    assert auth.login("admin@acme.test", NEW_PASSWORD).status_code == 302
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "account.password_changed" in actions


@pytest.mark.parametrize(("fields", "message"), [
    ({"current_password": "wrong", "new_password": NEW_PASSWORD,
      "confirm_password": NEW_PASSWORD}, b"Your current password is not right."),
    ({"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
     b"at least 12"),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD,
      "confirm_password": NEW_PASSWORD + "!"}, b"The two new passwords differ."),
])
def test_password_change_refuses_bad_input_and_changes_nothing(app, client, auth, world, login,
                                                               fields, message):
    login()
    other = app.test_client()
    login(client=other)
    response = client.post("/account/password", data=fields)
    assert response.status_code in (401, 422)
    assert message in response.data
    assert _signed_in(other)
    with app.app_context():
        user = db.session.get(User, world.admin.id)
        assert user.check_password(PASSWORD)


def test_removing_a_member_ends_their_sessions(app, client, auth, world, login):
    operator = app.test_client()
    login("operator@acme.test", remember=True, client=operator)
    remembered = _cookie(operator, "remember_token")
    auth.sign_in_as(world.admin)
    with app.app_context():
        member_id = world.member(world.operator).id
    response = client.post(f"/settings/members/{member_id}/remove", headers=HX)
    assert response.status_code == 200
    assert _sessions_of(app, world.operator) == []
    assert operator.get("/").status_code == 302  # signed out, not just "not a member"
    assert not _signed_in(_with_cookies(app, remember_token=remembered))


def test_a_deactivated_user_is_signed_out_at_the_next_request(app, client, world, login):
    login()
    with app.app_context():
        db.session.get(User, world.admin.id).active = False
        db.session.commit()
    assert client.get("/").status_code == 302


def test_a_forged_or_unknown_session_id_is_just_signed_out(app, client, world):
    with client.session_transaction() as session:
        session["_user_id"] = str(world.admin.id)  # the old cookie format: a bare user id
        session["_fresh"] = True
    assert client.get("/").status_code == 302


def test_account_page_needs_a_signed_in_user(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_out_everywhere_needs_csrf(app, client, world, login):
    login()
    assert client.post("/account/sign-out-everywhere", csrf=False).status_code == 400
    assert _signed_in(client)


def test_ending_a_session_or_every_session_without_javascript_asks_first(app, client, world,
                                                                          login):
    login()
    other = app.test_client()
    login(remember=True, client=other)
    _, that_one = sorted(_sessions_of(app, world.admin), key=lambda s: s.id)
    page = client.get(f"/account/sessions/end?session_id={that_one.id}")
    assert page.status_code == 200
    assert b">Sign out that session</button>" in page.data
    assert b">Keep it signed in</a>" in page.data
    assert f'name="session_id" value="{that_one.id}"'.encode() in page.data
    everywhere = client.get("/account/sign-out-everywhere")
    assert everywhere.status_code == 200 and b">Sign out everywhere</button>" in everywhere.data
    assert _signed_in(other) and _signed_in(client)  # asking ended nothing
    assert client.get("/account/sessions/end?session_id=999999").status_code == 404
    assert client.get("/account/sessions/end?session_id=x").status_code == 404
