"""Signing in and out, throttling, redirects and cookies."""

import pytest

from tests.conftest import PASSWORD


def test_sign_in_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Sign in" in response.data


def test_signed_out_visitor_is_sent_to_sign_in_with_next(client):
    response = client.get("/settings/members")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/settings/members"


def test_member_signs_in_and_lands_on_next_page(client, auth, world):
    response = client.post("/login?next=/audit", data={"email": "ADMIN@acme.test ",
                                                        "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/audit"
    assert b"Acme Clinic" in client.get("/").data


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test", "/\\evil.test",
                                    "javascript:alert(1)", "http:/evil.test"])
def test_sign_in_never_redirects_off_site(client, world, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": "admin@acme.test", "password": PASSWORD})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("email", ["admin@acme.test", "nobody@acme.test"])
def test_wrong_password_or_unknown_email_get_the_same_generic_error(client, world, email):
    response = client.post("/login", data={"email": email, "password": "wrong password"})
    assert response.status_code == 401
    assert b"Wrong email or password." in response.data
    assert client.get("/").status_code == 302


def test_malformed_sign_in_form_gets_field_errors(client, world):
    response = client.post("/login", data={"email": "not-an-email", "password": ""})
    assert response.status_code == 400
    assert b"Enter a valid email." in response.data
    assert b"Enter your password." in response.data


def test_oversize_sign_in_fields_are_refused_cleanly(client, world):
    response = client.post("/login", data={"email": "a" * 5000 + "@x.test", "password": "p"})
    assert response.status_code == 400


def test_sign_in_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"email": "admin@acme.test", "password": PASSWORD},
                           csrf=False)
    assert response.status_code == 400
    assert b"security token" in response.data
    assert client.get("/").status_code == 302


def test_failed_sign_ins_are_throttled_per_account(app, client, auth, world):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert auth.login("admin@acme.test", "wrong").status_code == 401
    response = auth.login("admin@acme.test")  # even the right password must wait
    assert response.status_code == 429
    assert b"Too many failed sign-ins. Try again in 15 minutes." in response.data
    assert int(response.headers["Retry-After"]) > 800
    # another account from another address is not affected
    other = auth.login("operator@acme.test", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 302


def test_failed_sign_ins_are_throttled_per_address(app, client, auth, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 3)
    for n in range(3):
        auth.login(f"user{n}@acme.test", "wrong", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    blocked = auth.login("admin@acme.test", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert blocked.status_code == 429
    assert auth.login("admin@acme.test", environ_base={"REMOTE_ADDR": "10.2.2.2"}
                      ).status_code == 302


def test_successful_sign_in_clears_the_account_counter(app, client, auth, world):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit - 1):
        auth.login("admin@acme.test", "wrong")
    auth.login_as(world.admin)
    auth.logout()
    for _ in range(limit - 1):
        assert auth.login("admin@acme.test", "wrong").status_code == 401
    assert auth.login("admin@acme.test").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, auth, world):
    response = auth.login_as(world.admin)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_sign_out_needs_post_and_ends_the_session(client, auth, world):
    auth.login_as(world.admin)
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_htmx_request_after_session_ends_redirects_the_page_to_sign_in(client, world):
    response = client.post("/settings/members/1/role", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_inactive_user_cannot_sign_in(app, client, auth, world):
    from dashboard.extensions import db
    from dashboard.models import User

    with app.app_context():
        db.session.get(User, world.admin.id).active = False
        db.session.commit()
    assert auth.login("admin@acme.test").status_code == 401
