"""Zoom webhook requests that left no event row: refused ones and duplicates, counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db


class WebhookTally(db.Model):
    """One row per hour and outcome (bad_signature, malformed, too_large, duplicate): a
    flood of forged requests adds to a counter, never a row each. Not per workspace: a
    refused request's account id is not to be believed."""

    __tablename__ = "webhook_tallies"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime]
