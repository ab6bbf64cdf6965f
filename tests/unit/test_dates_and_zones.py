"""One date format, relative words, and time zone fields that take a city."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard import dates, time_zones

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("offset", "words"), [
    (timedelta(seconds=-10), "just now"), (timedelta(minutes=-5), "5 min ago"),
    (timedelta(minutes=30), "in 30 min"), (timedelta(hours=-3), "3 h ago"),
    (timedelta(hours=30), "tomorrow"), (timedelta(days=-1, hours=-2), "yesterday"),
    (timedelta(days=9), "in 9 days"), (timedelta(days=-60), "2 Oct 2026")])
def test_relative_words(app_context, offset, words):
    assert dates.ago(NOW + offset, now=NOW) == words


def test_the_one_format_is_on_the_given_clock_with_its_abbreviation(app_context):
    assert dates.moment(NOW, "Europe/Lisbon") == "1 Dec 2026, 15:00 WET"
    assert dates.moment(NOW.replace(tzinfo=None), "America/New_York") == "1 Dec 2026, 10:00 EST"
    assert dates.moment(NOW, "Not/AZone") == "1 Dec 2026, 15:00 UTC"
    assert dates.moment(None) == "—"


@pytest.mark.parametrize(("typed", "zone"), [
    ("Lisbon", "Europe/Lisbon"), ("  lisbon ", "Europe/Lisbon"), ("Europe/Lisbon", "Europe/Lisbon"),
    ("new york", "America/New_York"), ("New_York", "America/New_York"), ("utc", "UTC"),
    ("Kyiv", "Europe/Kyiv"), ("Atlantis", None), ("", None), (None, None)])
def test_a_city_names_its_zone(typed, zone):
    assert time_zones.resolve(typed) == zone


def test_suggestions_carry_the_city_people_type():
    assert ("Europe/Lisbon", "Lisbon") in time_zones.choices()
    assert ("America/Sao_Paulo", "Sao Paulo") in time_zones.choices()
