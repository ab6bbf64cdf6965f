"""The sandbox blueprint object; route modules attach their views to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Blueprint, current_app
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from .mail_catcher import MailCatcher
    from .webhooks_out import WebhookSender

bp = Blueprint(
    "zoom_sandbox",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@dataclass
class SandboxState:
    """Per-app sandbox objects kept in ``app.extensions["zoom_sandbox"]``."""

    engine: Engine
    url_prefix: str
    sender: WebhookSender
    mail_catcher: MailCatcher | None = None


def sandbox_state() -> SandboxState:
    """The current app's sandbox state."""
    return current_app.extensions["zoom_sandbox"]
