"""One rule for what counts as an email address, for forms and the JSON API alike."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from wtforms import Field, Form, ValidationError


def normalized_email(value: str) -> str | None:
    """The address in normal form, or None when it is not a valid address.

    No DNS look-up (we never mail from here), and ``.test`` domains are allowed because the
    demo and the Zoom sandbox use them.
    """
    try:
        result = validate_email(value.strip(), check_deliverability=False,
                                test_environment=True)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


class EmailAddress:
    """WTForms validator built on ``normalized_email``."""

    def __init__(self, message: str = "Enter a valid email.") -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and normalized_email(field.data) is None:
            raise ValidationError(self.message)
