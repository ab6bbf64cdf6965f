"""The README's webhook receiver works as it says: run as written, it accepts a delivery
Lakesis signed, prints it once however often it comes, and refuses a forged one."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from dashboard.services.webhook_delivery import signed_headers
from dashboard.services.webhook_endpoints import new_secret
from tests.live_server import free_port

README = Path(__file__).resolve().parents[1] / "README.md"


def _script() -> str:
    text = README.read_text()
    return re.search(r"<!-- receiver -->\n```python\n(.*?)```", text, re.S).group(1)


def test_the_readme_receiver_verifies_and_dedupes(tmp_path):
    script = tmp_path / "receiver.py"
    script.write_text(_script())
    secret, port = new_secret(), free_port()
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env={"WEBHOOK_SECRET": secret, "PORT": str(port),
                                    "PATH": "/usr/bin:/bin"})
    url = f"http://127.0.0.1:{port}/hooks"
    body = '{"cursor":"1","data":{"external_ref":"crm-1"},"id":"evt_1","type":"meeting.ready"}'
    try:
        headers = signed_headers("evt_1", body, [secret], datetime.now(UTC))
        for _ in range(100):
            try:
                first = requests.post(url, data=body, headers=headers, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        again = requests.post(url, data=body, headers=headers, timeout=5)
        forged = requests.post(url, data=body, timeout=5, headers=signed_headers(
            "evt_1", body, [new_secret()], datetime.now(UTC)))
    finally:
        process.terminate()
        output = process.communicate(timeout=5)[0]
    assert (first.status_code, again.status_code, forged.status_code) == (204, 204, 401)
    assert output.count("meeting.ready") == 1 and "crm-1" in output
