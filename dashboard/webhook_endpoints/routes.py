"""Settings > Webhooks, for admins only (an endpoint's URL and secret are the workspace's
configuration, like its API keys): thin views over ``services.webhook_endpoints``."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from dashboard.access import current_workspace, requires
from dashboard.models import Permission, WebhookEndpoint
from dashboard.services import NotFound, ServiceError, webhook_endpoints
from dashboard.services.audit import Actor
from dashboard.webhook_endpoints.blueprint import bp
from dashboard.webhook_endpoints.forms import EndpointForm, ReplayForm, TypesForm

#: The endpoint whose secret the next page view shows, once (after a create or a rotation).
REVEAL = "webhook_secret_reveal"


def _actor() -> Actor:
    return Actor.of_user(current_user)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    try:
        return webhook_endpoints.get(current_workspace(), endpoint_id)
    except NotFound:
        abort(404)


def _index(form: EndpointForm, status: int = 200) -> tuple[str, int]:
    return render_template("pages/webhooks.html", form=form,
                           endpoints=webhook_endpoints.list_endpoints(current_workspace())
                           ), status


def _field_error(form: Any, error: ServiceError) -> None:
    field = getattr(form, error.field or "", None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@bp.route("", methods=["GET"])
@requires(Permission.MANAGE_WORKSPACE)
def index() -> tuple[str, int]:
    return _index(EndpointForm())


@bp.route("", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def create() -> Response | tuple[str, int]:
    form = EndpointForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    try:
        endpoint = webhook_endpoints.create(current_workspace(), _actor(), form.url.data,
                                            form.event_types.data)
    except ServiceError as error:
        _field_error(form, error)
        return _index(form, error.status)
    session[REVEAL] = endpoint.id
    flash("Endpoint added. Copy its signing secret now: it is shown only this once.",
          "success")
    return redirect(url_for("webhook_endpoints.detail", endpoint_id=endpoint.id), 303)


def _detail(endpoint: WebhookEndpoint, status: int = 200, *, types_form: TypesForm | None = None,
            replay_form: ReplayForm | None = None) -> Response:
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before < 2**53:
        before = None  # no attempt has such an id: the first page
    log = webhook_endpoints.attempts(current_workspace(), endpoint.id, before)
    secret = None
    if session.get(REVEAL) == endpoint.id:
        session.pop(REVEAL)
        secret = webhook_endpoints.secret_of(endpoint)
    types_form = types_form or TypesForm(formdata=None, event_types=endpoint.types)
    response = make_response(render_template(
        "pages/webhook_endpoint.html", endpoint=endpoint, secret=secret, log=log,
        deliveries=webhook_endpoints.recent_deliveries(endpoint), types_form=types_form,
        replay_form=replay_form or ReplayForm(formdata=None)), status)
    # The page may show a secret, and always shows the delivery log: never cached.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:endpoint_id>", methods=["GET"])
@requires(Permission.MANAGE_WORKSPACE)
def detail(endpoint_id: int) -> Response:
    return _detail(_endpoint(endpoint_id))


def _back(endpoint_id: int) -> Response:
    return redirect(url_for("webhook_endpoints.detail", endpoint_id=endpoint_id), 303)


@bp.route("/<int:endpoint_id>/types", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def set_types(endpoint_id: int) -> Response:
    endpoint = _endpoint(endpoint_id)
    form = TypesForm()
    if not form.validate_on_submit():
        return _detail(endpoint, 422, types_form=form)
    webhook_endpoints.set_types(current_workspace(), _actor(), endpoint.id,
                                form.event_types.data)
    flash("Event types saved.", "success")
    return _back(endpoint.id)


@bp.route("/<int:endpoint_id>/rotate", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def rotate(endpoint_id: int) -> Response:
    endpoint = webhook_endpoints.rotate(current_workspace(), _actor(),
                                        _endpoint(endpoint_id).id)
    session[REVEAL] = endpoint.id
    flash("New signing secret made; deliveries carry both signatures until "
          f"{endpoint.previous_secret_until:%Y-%m-%d %H:%M} UTC." if endpoint.previous_secret_until
          else "New signing secret made.", "success")
    return _back(endpoint.id)


@bp.route("/<int:endpoint_id>/pause", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def pause(endpoint_id: int) -> Response:
    webhook_endpoints.set_paused(current_workspace(), _actor(), _endpoint(endpoint_id).id, True)
    flash("Endpoint paused: nothing is sent to it until it is resumed.", "success")
    return _back(endpoint_id)


@bp.route("/<int:endpoint_id>/resume", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def resume(endpoint_id: int) -> Response:
    webhook_endpoints.set_paused(current_workspace(), _actor(), _endpoint(endpoint_id).id,
                                 False)
    flash("Endpoint resumed. Events recorded while it was paused were not queued for it: "
          "use Replay for that time range.", "success")
    return _back(endpoint_id)


@bp.route("/<int:endpoint_id>/delete", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def delete(endpoint_id: int) -> Response:
    endpoint = webhook_endpoints.remove(current_workspace(), _actor(),
                                        _endpoint(endpoint_id).id)
    flash(f"Endpoint {endpoint.url} deleted.", "success")
    return redirect(url_for("webhook_endpoints.index"), 303)


@bp.route("/<int:endpoint_id>/replay", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def replay(endpoint_id: int) -> Response:
    endpoint = _endpoint(endpoint_id)
    form = ReplayForm()
    if not form.validate_on_submit():
        return _detail(endpoint, 422, replay_form=form)
    try:
        if form.event_id.data:
            count = webhook_endpoints.replay_event(current_workspace(), _actor(), endpoint.id,
                                                   form.event_id.data)
        else:
            count = webhook_endpoints.replay_range(
                current_workspace(), _actor(), endpoint.id,
                form.since.data.replace(tzinfo=UTC), form.until.data.replace(tzinfo=UTC))
    except ServiceError as error:
        _field_error(form, error)
        return _detail(endpoint, 422 if error.status == 404 else error.status,
                       replay_form=form)
    flash(f"{count} event{'s' if count != 1 else ''} queued again (same webhook-id: the "
          "receiver drops any it already has).", "success")
    return _back(endpoint.id)
