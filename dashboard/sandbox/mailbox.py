"""The sandbox's Mail page: what the local mail catcher received, to read in the browser."""

from __future__ import annotations

from flask import Response, abort, render_template

from . import clock, mail_catcher
from .blueprint import bp
from .settings import setting
from .storage import transaction


@bp.get("/mail")
def mailbox() -> str:
    with transaction() as conn:
        messages = mail_catcher.all_messages(conn)
    for message in messages:
        message["received"] = clock.iso(message["received_at"])
    return render_template("sandbox/mail.html", messages=messages,
                           smtp_port=setting("ZOOM_SANDBOX_SMTP_PORT"))


def _message(mail_id: int) -> tuple[dict, mail_catcher.EmailMessage]:
    with transaction() as conn:
        row = mail_catcher.one_message(conn, mail_id)
    if row is None:
        abort(404)
    return row, mail_catcher.parse(row["raw"])


@bp.get("/mail/<int:mail_id>")
def mail_message(mail_id: int) -> str:
    row, message = _message(mail_id)
    return render_template(
        "sandbox/mail_message.html", row=row, received=clock.iso(row["received_at"]),
        headers=[(name, mail_catcher.header(message, name)) for name in (
            "From", "To", "Subject", "Date", "Message-ID")],
        text=mail_catcher.text_of(message),
        attachments=list(enumerate(mail_catcher.attachments_of(message))))


@bp.get("/mail/<int:mail_id>/attachments/<int:index>")
def mail_attachment(mail_id: int, index: int) -> Response:
    _, message = _message(mail_id)
    attachments = mail_catcher.attachments_of(message)
    if index >= len(attachments):
        abort(404)
    attachment = attachments[index]
    # Served as a download, never rendered: the attachment is whatever was sent.
    response = Response(attachment.data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_safe(attachment.filename)}"')
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _safe(filename: str) -> str:
    kept = "".join(c for c in filename if c.isalnum() or c in "._-")
    return kept[:100] or "attachment"
