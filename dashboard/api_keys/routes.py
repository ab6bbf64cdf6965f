from __future__ import annotations

from cryptography.fernet import InvalidToken
from flask import abort, flash, make_response, redirect, render_template, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from dashboard import token_cipher
from dashboard.access import current_workspace, requires
from dashboard.api_keys.blueprint import bp
from dashboard.confirmation import confirmation_page
from dashboard.htmx import is_htmx, partial
from dashboard.models import Permission
from dashboard.plain_text import PlainText
from dashboard.services import NotFound, api_keys
from dashboard.services.audit import Actor

# The new key travels from the POST to the page after its redirect in the session cookie,
# encrypted (the cookie is only signed), and is dropped the first time that page is shown: a
# reload neither makes a second key nor shows the first one again.
REVEAL = "api_key_reveal"


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


def _take_revealed() -> api_keys.IssuedKey | None:
    """The key made just before this page load, once; None on any later load."""
    sealed = session.pop(REVEAL, None)
    if not sealed:
        return None
    try:
        key_id, secret = token_cipher.decrypt(sealed).split(":", 1)
    except (InvalidToken, ValueError):
        return None
    key = next((k for k in api_keys.list_keys(current_workspace()) if str(k.id) == key_id),
               None)
    return api_keys.IssuedKey(key, secret) if key is not None and key.active else None


@bp.route("", methods=["GET"])
@requires(Permission.MANAGE_WORKSPACE)
def index() -> Response:
    return _page(NewKeyForm(), issued=_take_revealed())


@bp.route("", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def create() -> Response:
    form = NewKeyForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    issued = api_keys.issue(current_workspace(), Actor.of_user(current_user), form.name.data,
                            current_user.id)
    session[REVEAL] = token_cipher.encrypt(f"{issued.key.id}:{issued.secret}")
    return redirect(url_for("api_keys.index") + "#new-key", code=303)


@bp.route("/<int:key_id>/revoke", methods=["GET"])
@requires(Permission.MANAGE_WORKSPACE)
def confirm_revoke(key_id: int) -> Response | str:
    """Without JavaScript, Revoke leads here first (with it, a dialog asks the same)."""
    key = next((k for k in api_keys.list_keys(current_workspace()) if k.id == key_id), None)
    if key is None:
        abort(404)
    if not key.active:
        return redirect(url_for("api_keys.index"))
    return confirmation_page(
        title=f"Revoke the key {key.name}?", verb="Revoke the key", keep="Keep the key",
        action=url_for("api_keys.revoke", key_id=key.id), back=url_for("api_keys.index"),
        body=(f"Calls with lks_{key.prefix}_… will be refused at once (401). "
              "This cannot be undone: the workflow needs a new key.",))


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
