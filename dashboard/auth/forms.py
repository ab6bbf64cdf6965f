from __future__ import annotations

import unicodedata

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, Form, IntegerField, PasswordField, StringField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    ValidationError,
)

from dashboard.email_address import EmailAddress
from dashboard.services.members import MIN_PASSWORD_LENGTH

#: Ids in forms are database integers: anything else names no record (a 404, never a 500).
MAX_ID = 2**31 - 1
_PASSWORD_RULE = f"Use at least {MIN_PASSWORD_LENGTH} characters (at most 200)."


class NoControlCharacters:
    """Refuse control and format characters (NUL, bidi overrides, zero-width, line
    separators): PostgreSQL refuses NUL outright, the others spoof what a name shows."""

    def __init__(self, message: str = "must not contain control characters.") -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
                              for ch in field.data):
            raise ValidationError(f"{field.label.text} {self.message}")


def _new_password() -> PasswordField:
    return PasswordField("New password", validators=[
        DataRequired("Choose a password."),
        Length(min=MIN_PASSWORD_LENGTH, max=200, message=_PASSWORD_RULE)])


def _confirmation() -> PasswordField:
    return PasswordField("New password again", validators=[
        DataRequired("Type the new password again."),
        EqualTo("new_password", "The two new passwords differ.")])


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[
        DataRequired("Enter your email."), Length(max=254), EmailAddress()])
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password."), Length(max=200)])
    remember = BooleanField("Keep me signed in on this device for 30 days")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        DataRequired("Enter your current password."), Length(max=200)])
    new_password = _new_password()
    confirm_password = _confirmation()


class NewAccountForm(FlaskForm):
    """An invited person new to Lakesis: their name and first password."""

    name = StringField("Your name", validators=[
        DataRequired("Enter your name."), Length(max=120), NoControlCharacters()])
    new_password = _new_password()
    confirm_password = _confirmation()


class EndSessionForm(FlaskForm):
    session_id = IntegerField("Session", validators=[InputRequired(), NumberRange(1, MAX_ID)])
