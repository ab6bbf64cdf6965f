"""The bookings filter (a GET form) and the reschedule form."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from dashboard.bookings.display import MEETING_LABELS
from dashboard.models import BookingState, MeetingStatus, OperationState
from dashboard.plain_text import PlainText
from dashboard.services.booking_input import MAX_DURATION, MIN_DURATION
from dashboard.services.sync_windows import WINDOWS

# "Cancelled" filters on the booking's state (its meeting may still be on its way out).
STATUS_CHOICES = [SelectChoice("", "Any status")] + [
    SelectChoice(value.value, label) for value, label in MEETING_LABELS.items()
    if value != MeetingStatus.CANCELLED] + [
    SelectChoice(BookingState.CANCELLED.value, "Cancelled bookings")]


# The sync health page links each of its numbers here: bookings with work in that state.
SYNC_CHOICES = [SelectChoice("", "Any Zoom work")] + [
    SelectChoice(state.value, f"Work {state.value}") for state in OperationState]
SYNC_WINDOW_CHOICES = [SelectChoice("", "Any time")] + [
    SelectChoice(window.key, window.label) for window in WINDOWS.values()]


class BookingFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    status = SelectField("Status", choices=STATUS_CHOICES, validators=[Optional()])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
    # Its placeholder and type="search" are in the template, which writes the form by hand.
    q = StringField("Search", validators=[Optional(), Length(max=100), PlainText()])
    # The table's order, kept when the filters change: soonest first, or "-start".
    sort = HiddenField(validators=[Optional(), AnyOf(["start", "-start"])])
    sync = SelectField("Zoom work", choices=SYNC_CHOICES, validators=[Optional()])
    window = SelectField("Finished", choices=SYNC_WINDOW_CHOICES, validators=[Optional()])

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("Must be on or after the From date.")

    def sync_since(self, now: datetime) -> datetime | None:
        """Where the ``window`` filter starts: finished work counts from then on."""
        chosen = WINDOWS.get(self.window.data or "")
        return chosen.since(now) if chosen else None

    def days(self, zone: str) -> tuple[datetime | None, datetime | None]:
        """The chosen days as a UTC range: from the start of From to the end of To,
        on the workspace's clock. A bound beyond the first or last moment there is (From
        0001-01-01 east of UTC, To 9999-12-31) is no bound at all: that is what it means."""
        tz = ZoneInfo(zone)

        def start_of(day: date | None, days_later: int = 0) -> datetime | None:
            if day is None:
                return None
            try:
                return datetime.combine(day + timedelta(days=days_later), time(),
                                        tz).astimezone(UTC)
            except OverflowError:
                return None

        return start_of(self.since.data), start_of(self.until.data, 1)


class RescheduleForm(FlaskForm):
    """A new local date and time in a chosen zone; ``parse_changes`` then checks the rest."""

    date = DateField("Date", validators=[InputRequired("Choose a date.")])
    time = TimeField("Time", validators=[InputRequired("Choose a time.")])
    duration_minutes = IntegerField(
        "Minutes", validators=[InputRequired("Enter the length in minutes.")],
        render_kw={"min": MIN_DURATION, "max": MAX_DURATION, "inputmode": "numeric"})
    timezone = StringField("Time zone", validators=[DataRequired("Choose a time zone."),
                                                    Length(max=64)],
                           render_kw={"list": "iana-zones", "autocomplete": "off"})

    def errors_from_service(self, errors: list[dict[str, str]]) -> None:
        """Put ``parse_changes``' messages beside the fields they are about."""
        where = {"start_time": self.time, "duration_minutes": self.duration_minutes,
                 "timezone": self.timezone}
        for error in errors:
            field = where.get(error["field"], self.date)
            field.errors = [*field.errors, _sentence(error["message"])]


def _sentence(message: str) -> str:
    """``parse_changes`` speaks of a field ("must be in the future"); beside it, say it whole."""
    return message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")
