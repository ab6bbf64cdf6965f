from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from dashboard.access import current_workspace, requires
from dashboard.api_keys.blueprint import bp
from dashboard.htmx import is_htmx, partial
from dashboard.models import Permission
from dashboard.plain_text import PlainText
from dashboard.services import NotFound, api_keys
from dashboard.services.audit import Actor


class NewKeyForm(FlaskForm):
    name = StringField("Name", validators=[
        DataRequired("Give the key a name, e.g. the system that will use it."), Length(max=80),
        PlainText()])


def _page(form: NewKeyForm, status: int = 200, issued: api_keys.IssuedKey | None = None
          ) -> Response:
    response = make_response(render_template(
        "pages/api_keys.html", form=form, keys=api_keys.list_keys(current_workspace()),
        issued=issued), status)
    if issued is not None:
        # The one page that shows a whole key must not linger in caches or history.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("", methods=["GET"])
@requires(Permission.MANAGE_WORKSPACE)
def index() -> Response:
    return _page(NewKeyForm())


@bp.route("", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def create() -> Response:
    form = NewKeyForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    issued = api_keys.issue(current_workspace(), Actor.of_user(current_user), form.name.data,
                            current_user.id)
    return _page(NewKeyForm(formdata=None), 201, issued)


@bp.route("/<int:key_id>/revoke", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def revoke(key_id: int) -> Response:
    try:
        key = api_keys.revoke(current_workspace(), Actor.of_user(current_user), key_id)
    except NotFound:
        abort(404)
    flash(f"Key {key.name} ({key.prefix}) revoked: calls with it now get 401.", "success")
    if is_htmx():
        return partial("partials/api_key_row.html", key=key)
    return redirect(url_for("api_keys.index"))
