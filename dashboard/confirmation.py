"""The no-JavaScript half of a confirmation: a page that says what the action will do.

With JavaScript, ``static/confirm.js`` asks the same question in a dialog; without it, the
control is a link (or GET form) to a view that returns ``confirmation_page``, whose one POST
form does the action. Either way the buttons name what they do ("Revoke the key" / "Keep the
key"), never OK / Cancel.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import render_template


def confirmation_page(*, title: str, verb: str, keep: str, action: str, back: str,
                      body: tuple[str, ...] = (), fields: Mapping[str, object] | None = None,
                      ) -> str:
    """The page asking ``title``; its verb button POSTs ``fields`` to ``action``, its keep
    link goes ``back``."""
    return render_template("pages/confirm.html", title=title, verb=verb, keep=keep,
                           action=action, back=back, body=body, fields=fields or {})
