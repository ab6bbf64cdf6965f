"""One rule for free text people and systems type into Lakesis (titles, names, references,
searches): no character that is invisible or changes how the text around it reads.

A booking's title becomes the Zoom meeting's topic and a line in calendars: a right-to-left
override (U+202E) or a zero-width space there spoofs what the invitation seems to say, a
NUL cannot be stored by PostgreSQL at all, and line separators break one-line fields. So
every character of Unicode's control (Cc), format (Cf), surrogate (Cs) and line/paragraph
separator (Zl, Zp) categories is refused, with one exception: the zero-width (non-)joiner
between two non-ASCII characters, where Persian and Indic scripts and emoji sequences such
as 👩‍⚕️ need it (it never sits between plain Latin letters there).
"""

from __future__ import annotations

import unicodedata

from wtforms import Field, Form, ValidationError

MESSAGE = "must not contain control characters"
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_JOINERS = frozenset({"\u200c", "\u200d"})


def _joins_words(text: str, index: int) -> bool:
    """A joiner with a non-ASCII, visible character on each side."""
    if not 0 < index < len(text) - 1:
        return False
    return all(not neighbour.isascii() and unicodedata.category(neighbour)
               not in _REFUSED_CATEGORIES for neighbour in (text[index - 1], text[index + 1]))


def forbidden_character(text: str) -> str | None:
    """The first character ``text`` may not hold, or None when it is plain text."""
    for index, char in enumerate(text):
        if char.isprintable() or char == " ":
            continue  # the common case: skip the category look-up
        if unicodedata.category(char) not in _REFUSED_CATEGORIES:
            continue  # e.g. a no-break space, or a character newer than this Python
        if char in _JOINERS and _joins_words(text, index):
            continue
        return char
    return None


def describe(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: how a refusal names the character."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def problem(text: str) -> str | None:
    """Why ``text`` is refused (a message to put beside its field), or None."""
    char = forbidden_character(text)
    if char is None:
        return None
    if "\ud800" <= char <= "\udfff":
        # JSON can carry lone surrogates (an escaped \ud800); no database can store them.
        return "must be valid Unicode text"
    return f"{MESSAGE} ({describe(char)})"


class PlainText:
    """WTForms validator built on ``problem``."""

    def __call__(self, form: Form, field: Field) -> None:
        if isinstance(field.data, str):
            why = problem(field.data)
            if why:
                raise ValidationError(why[0].upper() + why[1:] + ".")
