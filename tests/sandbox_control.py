"""Drive the Zoom sandbox from tests, over HTTP, the way a person or Zoom would."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

ADA = "sbx-user-dr-ada"  # account sbx-acct-clinic
FRONT_DESK = "sbx-user-front-desk"  # account sbx-acct-clinic
OTHER_HOST = "sbx-user-other-host"  # account sbx-acct-other
API_ENDPOINTS = ("users_me", "meetings_create", "meetings_get", "meetings_update",
                 "meetings_delete", "meetings_list")


class _ConsentForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action") or ""
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""


class SandboxControl:
    """``timeout``: seconds any one control or consent request may take (raise it for a
    sandbox process on a loaded machine)."""

    def __init__(self, base_url: str, timeout: float = 5) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.base))
        self.http = requests.Session()

    def reset(self) -> None:
        self.http.post(f"{self.base}/_control/reset", timeout=self.timeout).raise_for_status()

    def state(self) -> dict[str, Any]:
        response = self.http.get(f"{self.base}/_control/state", timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def fault(self, endpoint: str, mode: str, **options: Any) -> None:
        body = {"endpoint": endpoint, "mode": mode, **options}
        self.http.post(f"{self.base}/_control/faults", json=body,
                       timeout=self.timeout).raise_for_status()

    def fault_rate(self, endpoint: str, mode: str, rate: float, delay: float = 0) -> None:
        """``rate`` (0 to 1) of ``endpoint``'s requests fail with ``mode``, at random."""
        body = {"endpoint": endpoint, "mode": mode, "rate": rate, "delay": delay}
        self.http.post(f"{self.base}/_control/fault_rates", json=body,
                       timeout=self.timeout).raise_for_status()

    def rate_limit_burst(self, count: int) -> None:
        """The next ``count`` requests of every API endpoint answer a per-second 429."""
        for endpoint in API_ENDPOINTS:
            self.fault(endpoint, "rate_limit", count=count)

    def expire_access_tokens(self, user_id: str = ADA) -> int:
        """The user's access tokens expire now (their refresh tokens still work)."""
        response = self.http.post(f"{self.base}/_control/tokens/expire",
                                  json={"user": user_id}, timeout=self.timeout)
        response.raise_for_status()
        return response.json()["expired"]

    def revoke_grants(self, user_id: str = ADA) -> int:
        """Revoke the user's grants: refresh tokens die; only a new consent helps."""
        response = self.http.post(f"{self.base}/_control/grants/revoke",
                                  json={"user": user_id}, timeout=self.timeout)
        response.raise_for_status()
        return response.json()["revoked"]

    def stored_meetings(self) -> list[dict[str, Any]]:
        """Every meeting the sandbox holds (``deleted`` says which are gone)."""
        response = self.http.get(f"{self.base}/_control/meetings", timeout=6 * self.timeout)
        response.raise_for_status()
        return response.json()["meetings"]

    def edit_meeting(self, meeting_id: int, user: str | None = None, **changes: Any
                     ) -> dict[str, Any]:
        """Change a meeting as a Zoom user on Zoom's web page (default: its host)."""
        body = {**changes, **({"user": user} if user else {})}
        response = self.http.post(f"{self.base}/_control/meetings/{meeting_id}/edit",
                                  json=body, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def delete_meeting(self, meeting_id: int, user: str | None = None) -> None:
        """Delete a meeting as a Zoom user on Zoom's web page (default: its host)."""
        self.http.post(f"{self.base}/_control/meetings/{meeting_id}/delete",
                       json={"user": user} if user else {},
                       timeout=self.timeout).raise_for_status()

    def webhooks(self, enabled: bool) -> None:
        """Switch the sandbox's webhook deliveries on or off."""
        self.http.post(f"{self.base}/_control/webhooks", json={"enabled": enabled},
                       timeout=self.timeout).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete(f"{self.base}/_control/faults", timeout=self.timeout).raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        self.http.post(f"{self.base}/_control/clock", json={"advance_seconds": seconds},
                       timeout=self.timeout).raise_for_status()

    def set_app_scopes(self, scopes: str) -> None:
        """Change the app registration's scopes (what the next consent grants)."""
        self.http.post(f"{self.base}/_control/app", json={"scopes": scopes},
                       timeout=self.timeout).raise_for_status()

    def app_scopes(self) -> str:
        response = self.http.get(f"{self.base}/_control/app", timeout=self.timeout)
        response.raise_for_status()
        return response.json()["scopes"]

    def scheduling(self, scheduler: str, host: str, allow: bool = True) -> None:
        """Give (or take back) a scheduling privilege: ``scheduler`` may ``schedule_for``
        ``host`` (ids or emails). Seeded: dr.ada may schedule for the front desk."""
        body = {"scheduler": scheduler, "host": host, "allow": allow}
        self.http.post(f"{self.base}/_control/scheduling", json=body,
                       timeout=self.timeout).raise_for_status()

    def url_validation(self) -> dict[str, Any]:
        """Send endpoint.url_validation now; returns ``{"ok", "detail", "at", ...}``."""
        response = self.http.post(f"{self.base}/_control/url_validation", timeout=2 * self.timeout)
        response.raise_for_status()
        return response.json()

    def consent(self, authorize_url: str, decision: str = "allow", user_id: str = ADA) -> str:
        """Answer Zoom's consent page; returns where Zoom sends the browser back to."""
        page = self.http.get(authorize_url, timeout=self.timeout)
        page.raise_for_status()
        form = _ConsentForm()
        form.feed(page.text)
        data = {**form.fields, "user_id": user_id, "decision": decision}
        answer = self.http.post(self.origin + form.action, timeout=self.timeout,
                                allow_redirects=False, data=data)
        assert answer.status_code == 302, answer.text[:300]
        return answer.headers["Location"]

    def remove_app(self, user_id: str = ADA, retain_data: bool = False) -> None:
        """Marketplace > Manage > Added Apps > Remove > confirm."""
        data = {"user": user_id}
        if retain_data:
            data["user_data_retention"] = "true"
        response = self.http.post(f"{self.base}/marketplace/manage/remove", data=data,
                                  timeout=2 * self.timeout, allow_redirects=False)
        assert response.status_code == 302


def callback_path(location: str) -> str:
    """The path and query of the app's callback, for the Flask test client."""
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def connect(client, sandbox: SandboxControl, user_id: str = ADA, decision: str = "allow"):
    """Settings > Integrations > Zoom > Connect, then Allow (or Deny) at the sandbox.

    ``client`` is the Flask test client of a signed-in member; returns the page shown.
    """
    started = client.post("/settings/integrations/zoom/connect")
    assert started.status_code == 303
    back = sandbox.consent(started.headers["Location"], decision, user_id)
    return client.get(callback_path(back), follow_redirects=True)
