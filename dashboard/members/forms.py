from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from dashboard.email_address import EmailAddress
from dashboard.models import Role
from dashboard.services.members import MIN_PASSWORD_LENGTH

ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize()) for role in Role]


class AddMemberForm(FlaskForm):
    email = EmailField("Email", validators=[
        DataRequired("Enter the person's email."), Length(max=254), EmailAddress()])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.OPERATOR.value)
    password = PasswordField(
        "First password (only for someone new to Lakesis)",
        validators=[Optional(), Length(
            min=MIN_PASSWORD_LENGTH, max=200,
            message=f"Use at least {MIN_PASSWORD_LENGTH} characters (at most 200).")])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class IntegrationsForm(FlaskForm):
    allowed = BooleanField("Manage integrations")
