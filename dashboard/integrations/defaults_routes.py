"""Settings > Integrations > Meeting defaults: how Lakesis sets up each Zoom meeting."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from dashboard import time_zones
from dashboard.access import current_workspace, requires
from dashboard.htmx import is_htmx, partial
from dashboard.integrations.blueprint import bp
from dashboard.models import Permission
from dashboard.services import ServiceError, connection_summary, connections, meeting_defaults
from dashboard.services.audit import Actor
from dashboard.services.booking_input import MAX_DURATION, MIN_DURATION, is_timezone

FRAGMENT = "partials/meeting_defaults.html"


class MeetingDefaultsForm(FlaskForm):
    waiting_room = BooleanField("Waiting room")
    join_before_host = BooleanField(
        "Join before host",
        description="Zoom ignores this while the waiting room is on: turn the waiting room off "
                    "to let participants in before the host.")
    mute_upon_entry = BooleanField("Mute participants on entry")
    host_video = BooleanField("Host video on")
    participant_video = BooleanField("Participant video on")
    default_duration_minutes = IntegerField(
        "Default length (minutes)",
        validators=[InputRequired("Enter a length in minutes."), NumberRange(
            MIN_DURATION, MAX_DURATION,
            f"Must be between {MIN_DURATION} and {MAX_DURATION} minutes.")],
        render_kw={"min": MIN_DURATION, "max": MAX_DURATION, "inputmode": "numeric"})
    timezone = StringField("Workspace time zone", validators=[InputRequired("Choose a time zone.")],
                           render_kw={"list": "iana-zones", "autocomplete": "off"},
                           description="The dashboard shows times on this clock. Type a "
                                       "city (Lisbon) or a zone (Europe/Lisbon).")

    def validate_join_before_host(self, field: BooleanField) -> None:
        # Zoom would save the pair and ignore join-before-host: say so instead of storing a
        # setting that does nothing.
        if field.data and self.waiting_room.data:
            raise ValidationError("Zoom ignores join before host while the waiting room is on. "
                                  "Turn one of them off.")

    def validate_timezone(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        field.data = time_zones.resolve(field.data) or field.data  # "Lisbon" is Europe/Lisbon
        if not is_timezone(field.data):
            raise ValidationError("Must be a time zone such as Europe/Lisbon, or a city in "
                                  "it such as Lisbon.")

    def settings(self) -> meeting_defaults.Settings:
        return meeting_defaults.Settings(**{
            name: getattr(self, name).data for name in (
                *meeting_defaults.SWITCHES, "default_duration_minutes", "timezone")})

    def switches(self) -> list[BooleanField]:
        """The meeting switches, in the order the page lists them."""
        return [getattr(self, name) for name in meeting_defaults.SWITCHES]


def defaults_form() -> MeetingDefaultsForm:
    """The form filled with the workspace's current settings, for the Integrations page."""
    return MeetingDefaultsForm(formdata=None, data=vars(meeting_defaults.current(
        current_workspace())))


def _refused(form: MeetingDefaultsForm) -> Response:
    if is_htmx():
        return partial(FRAGMENT, status=422, defaults_form=form)
    return make_response(render_template(
        "pages/integrations.html", defaults_form=form,
        connection=connections.connection_of(current_workspace()),
        summary=connection_summary.summary(current_workspace())), 422)


@bp.route("/meeting-defaults", methods=["POST"])
@requires(Permission.MANAGE_INTEGRATIONS)
def save_defaults() -> Response:
    form = MeetingDefaultsForm()
    if not form.validate_on_submit():
        return _refused(form)
    try:
        changed = meeting_defaults.update(current_workspace(), Actor.of_user(current_user),
                                          form.settings())
    except ServiceError as error:
        getattr(form, error.field or "timezone").errors = [error.message]
        return _refused(form)
    if changed:
        names = ", ".join(getattr(form, name).label.text.split(" (")[0].lower()
                          for name in changed)
        flash(f"Meeting defaults saved ({names}). New and rescheduled meetings use them.",
              "success")
    else:
        flash("Nothing changed.", "info")
    if is_htmx():
        return partial(FRAGMENT, defaults_form=defaults_form())
    return redirect(url_for("integrations.index") + "#meeting-defaults")
