from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import request
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from dashboard.access import current_workspace, requires
from dashboard.audit_log.blueprint import bp
from dashboard.htmx import page_or_partial
from dashboard.models import Permission
from dashboard.plain_text import PlainText
from dashboard.services import audit
from dashboard.url_converters import parse_row_id


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    action = SelectField("Action", validators=[Optional(), Length(max=64), PlainText()],
                         validate_choice=False)
    actor = StringField("Actor", validators=[Optional(), Length(max=254), PlainText()])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])


def _day_start(day: date | None, days_later: int = 0) -> datetime | None:
    """The start of ``day`` (plus ``days_later``) in UTC; None, no bound, past the last day
    there is (``To 9999-12-31`` means up to the end of time)."""
    if not day:
        return None
    try:
        return datetime.combine(day + timedelta(days=days_later), time(), UTC)
    except OverflowError:
        return None


@bp.route("")
@requires(Permission.VIEW_AUDIT)
def index() -> Response:
    workspace = current_workspace()
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", "Any action")] + [
        SelectChoice(action) for action in audit.known_actions(workspace.id)]
    valid = form.validate()
    filters = audit.AuditFilters()
    if valid:
        filters = audit.AuditFilters(
            action=form.action.data or None, actor=(form.actor.data or "").strip() or None,
            since=_day_start(form.since.data), until=_day_start(form.until.data, 1))
    before = parse_row_id(request.args.get("before"))  # not an id: the first page
    page = audit.list_events(workspace.id, filters, before_id=before)
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return page_or_partial("pages/audit_log.html", "partials/audit_table.html",
                           200 if valid else 422, form=form, events=page, filter_args=args)
