"""The forms of Settings > Webhooks."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, Length, Optional

from dashboard.plain_text import PlainText
from dashboard.services.webhook_endpoints import EVENT_TYPES

TYPE_CHOICES = list(EVENT_TYPES)


class TypesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EndpointForm(FlaskForm):
    url = StringField("URL", validators=[
        DataRequired("Enter the URL the booking workflow receives webhooks at."),
        Length(max=500), PlainText()])
    event_types = TypesField("Event types", choices=TYPE_CHOICES, default=list(EVENT_TYPES),
                             validators=[DataRequired("Choose at least one event type.")])


class TypesForm(FlaskForm):
    event_types = TypesField("Event types", choices=TYPE_CHOICES,
                             validators=[DataRequired("Choose at least one event type.")])


class ReplayForm(FlaskForm):
    """One event by its id, or every event of a time range (UTC)."""

    event_id = StringField("Event id", validators=[Optional(), Length(max=36), PlainText()])
    since = DateTimeLocalField("From (UTC)", validators=[Optional()])
    until = DateTimeLocalField("To (UTC)", validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:  # type: ignore[override]
        if not super().validate(extra_validators):
            return False
        if self.event_id.data:
            return True
        if self.since.data and self.until.data:
            return True
        missing = self.since if not self.since.data else self.until
        missing.errors = [*missing.errors, "Give an event id, or both ends of a time range."]
        return False
