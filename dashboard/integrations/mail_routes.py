"""Settings > Integrations > Customer email: whether Lakesis emails customers their
invitation (admins only; audited)."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from dashboard.access import current_workspace, requires
from dashboard.integrations.blueprint import bp
from dashboard.integrations.defaults_routes import defaults_form
from dashboard.models import Permission
from dashboard.services import connections, mail_settings
from dashboard.services.audit import Actor


class CustomerEmailForm(FlaskForm):
    email_customers = RadioField(
        "Email customers their invitation",
        choices=[SelectChoice("on", "On: send the invitation, its updates and its "
                              "cancellation"),
                 SelectChoice("off", "Off: the booking workflow sends its own")],
        validators=[InputRequired("Choose on or off.")])


def customer_email_form() -> CustomerEmailForm:
    enabled = mail_settings.emails_customers(current_workspace().id)
    return CustomerEmailForm(formdata=None, data={"email_customers": "on" if enabled else "off"})


@bp.route("/customer-email", methods=["POST"])
@requires(Permission.MANAGE_WORKSPACE)
def save_customer_email() -> Response:
    form = CustomerEmailForm()
    if not form.validate_on_submit():
        return make_response(render_template(
            "pages/integrations.html", connection=connections.connection_of(current_workspace()),
            defaults_form=defaults_form(), customer_email_form=form), 422)
    enabled = form.email_customers.data == "on"
    changed = mail_settings.set_email_customers(current_workspace(), Actor.of_user(current_user),
                                                enabled)
    if not changed:
        flash("Nothing changed.", "info")
    elif enabled:
        flash("Customer email is on: customers get their invitation (.ics) by email, and its "
              "updates and cancellation.", "success")
    else:
        flash("Customer email is off.", "success")
    return redirect(url_for("integrations.index") + "#customer-email")


@bp.context_processor
def _customer_email_form() -> dict:
    """Every Integrations page shows the switch, however it was rendered."""
    return {"customer_email_form_now": customer_email_form}
