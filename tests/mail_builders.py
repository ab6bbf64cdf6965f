"""Builders for the mail tests: a connected workspace, bookings whose meetings are made
against the mocked Zoom, the customer-email switch, and the outbox as it is."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from icalendar import Calendar
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import MailMessage, Workspace
from dashboard.orm import utcnow
from dashboard.services import api_keys, mail_delivery, mail_settings
from dashboard.services.audit import Actor


def email_customers(app: Flask, workspace_id: int, enabled: bool = True) -> None:
    with app.app_context():
        mail_settings.set_email_customers(db.session.get(Workspace, workspace_id),
                                          Actor.system(), enabled)


def api_key(app: Flask, workspace_id: int) -> str:
    with app.app_context():
        return api_keys.issue(db.session.get(Workspace, workspace_id), Actor.system(),
                              "workflow", None).secret


def outbox(app: Flask) -> list[MailMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(MailMessage).order_by(MailMessage.id)))
        db.session.expunge_all()
        return rows


def send_mail(app: Flask) -> int:
    with app.app_context():
        return mail_delivery.drain()


def mail_due(app: Flask, when: datetime | None = None) -> None:
    with app.app_context():
        db.session.execute(update(MailMessage).where(MailMessage.state == "queued")
                           .values(next_attempt_at=when or utcnow()))
        db.session.commit()


def event_of(ics: str | bytes):
    """The one VEVENT of an .ics, and the calendar's METHOD, read with ``icalendar``."""
    calendar = Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event
