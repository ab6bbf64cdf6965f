from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from dashboard.email_address import EmailAddress


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[
        DataRequired("Enter your email."), Length(max=254), EmailAddress()])
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password."), Length(max=200)])
    remember = BooleanField("Keep me signed in on this device")
