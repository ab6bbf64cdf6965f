"""SMTP_URL and MAIL_FROM: parsed and checked at start, the password never in a repr, and
production sending only encrypted (or to this machine)."""

from __future__ import annotations

import pytest

from dashboard.config import ConfigError, load_config
from dashboard.mail_transport import SmtpTarget
from tests.test_factory import LIVE


def test_an_smtp_url_names_host_port_tls_and_sign_in():
    target = SmtpTarget.from_url("smtp://mailer:p%40ss@mail.example.test:587?starttls=1")
    assert (target.host, target.port, target.starttls, target.implicit_tls) == (
        "mail.example.test", 587, True, False)
    assert (target.username, target.password) == ("mailer", "p@ss")
    assert "p@ss" not in repr(target)
    assert SmtpTarget.from_url("smtps://mail.example.test").port == 465
    assert SmtpTarget.from_url("smtp://127.0.0.1").port == 25


@pytest.mark.parametrize(("url", "says"), [
    ("http://mail.example.test", "must start with smtp:// or smtps://"),
    ("smtp://", "has no host"),
    ("smtp://mail.example.test:99999", "port"),
    ("smtp://mail.example.test?tls=1", "knows only the option starttls"),
    ("smtps://mail.example.test?starttls=1", "leave starttls out"),
])
def test_a_bad_smtp_url_is_refused_at_start_saying_why(tmp_path, url, says):
    with pytest.raises(ConfigError, match=f"SMTP_URL .*{says}"):
        load_config({**LIVE, "SMTP_URL": url}, tmp_path)


def test_production_refuses_plain_smtp_to_another_machine(tmp_path):
    with pytest.raises(ConfigError, match="smtps:// or \\?starttls=1"):
        load_config({**LIVE, "SMTP_URL": "smtp://u:secret@mail.example.test"}, tmp_path)
    for url in ("smtp://127.0.0.1:25", "smtp://mail.example.test:587?starttls=1",
                "smtps://mail.example.test"):
        assert load_config({**LIVE, "SMTP_URL": url}, tmp_path)["SMTP_URL"] == url


def test_sandbox_mode_sends_to_the_catcher_and_live_mode_to_nothing_unless_told(tmp_path):
    sandbox = load_config({"LAKESIS_ENV": "testing", "ZOOM_SANDBOX_SMTP_PORT": "2525"},
                          tmp_path)
    assert sandbox["SMTP_URL"] == "smtp://127.0.0.1:2525"
    assert load_config(LIVE, tmp_path)["SMTP_URL"] is None


def test_production_refuses_the_sandbox_catchers_port(tmp_path):
    with pytest.raises(ConfigError, match="sandbox"):
        load_config({**LIVE, "ZOOM_SANDBOX_SMTP_PORT": "2525"}, tmp_path)


@pytest.mark.parametrize("value", ["not an address", "Lakesis <>"])
def test_a_bad_mail_from_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        load_config({**LIVE, "MAIL_FROM": value}, tmp_path)
