from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import request
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from dashboard.access import current_workspace, requires
from dashboard.audit_log.blueprint import bp
from dashboard.htmx import page_or_partial
from dashboard.models import Permission
from dashboard.services import audit


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    action = SelectField("Action", validators=[Optional()], validate_choice=False)
    actor = StringField("Actor", validators=[Optional(), Length(max=254)])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])


def _day_start(day: object) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day else None  # type: ignore[arg-type]


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
        until = _day_start(form.until.data)
        filters = audit.AuditFilters(
            action=form.action.data or None, actor=(form.actor.data or "").strip() or None,
            since=_day_start(form.since.data), until=until + timedelta(days=1) if until else None)
    before = request.args.get("before", type=int)
    page = audit.list_events(workspace.id, filters, before_id=before)
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return page_or_partial("pages/audit_log.html", "partials/audit_table.html",
                           200 if valid else 422, form=form, events=page, filter_args=args)
