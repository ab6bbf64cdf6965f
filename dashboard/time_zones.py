"""Time zone fields that take what a person types: "Lisbon", "new york", "europe/lisbon"
all mean Europe/Lisbon. The stored value is always the IANA name."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

# Zones whose city is not what people call them by.
ALIASES = {"utc": "UTC", "gmt": "UTC", "z": "UTC", "kyiv": "Europe/Kyiv",
           "kiev": "Europe/Kyiv", "saigon": "Asia/Ho_Chi_Minh", "bombay": "Asia/Kolkata",
           "mumbai": "Asia/Kolkata", "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata",
           "beijing": "Asia/Shanghai", "san francisco": "America/Los_Angeles"}


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


@cache
def _index() -> tuple[dict[str, str], dict[str, str]]:
    """IANA names by their folded full name, and by their folded city when only one zone
    (among the canonical, Area/City ones) has that city."""
    full: dict[str, str] = {}
    cities: dict[str, list[str]] = {}
    for name in available_timezones():
        full[_key(name)] = name
        area, _, city = name.rpartition("/")
        if area and not area.startswith(("Etc", "SystemV", "US", "posix", "right")):
            cities.setdefault(_key(city), []).append(name)
    unique = {city: names[0] for city, names in cities.items() if len(names) == 1}
    return full, unique


def resolve(text: str | None) -> str | None:
    """The IANA zone ``text`` names, or None when it names none (or several)."""
    wanted = _key(text or "")
    if not wanted:
        return None
    full, cities = _index()
    if wanted in full:
        return full[wanted]
    if wanted in ALIASES:
        return ALIASES[wanted]
    return cities.get(wanted)


@cache
def choices() -> tuple[tuple[str, str], ...]:
    """(IANA name, what a person searches for) of every zone, for a <datalist>."""
    return tuple((name, name.rpartition("/")[2].replace("_", " "))
                 for name in sorted(available_timezones())
                 if not name.startswith(("Etc/", "SystemV/", "posix/", "right/")))
