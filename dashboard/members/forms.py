from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, SelectChoice, SelectField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from dashboard.auth.forms import MAX_ID
from dashboard.email_address import EmailAddress
from dashboard.models import Role

ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize()) for role in Role]


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[
        DataRequired("Enter the person's email."), Length(max=254), EmailAddress()])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.OPERATOR.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class IntegrationsForm(FlaskForm):
    allowed = BooleanField("Manage integrations")


class RevokeInvitationForm(FlaskForm):
    invitation_id = IntegerField("Invitation", validators=[
        InputRequired(), NumberRange(1, MAX_ID)])
