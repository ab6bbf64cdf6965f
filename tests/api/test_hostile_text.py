"""Free text the booking API takes reaches the Zoom topic and calendars verbatim, so what
hides or disguises text is refused, naming the field: bidi overrides, zero-width characters,
DEL, C1 controls, line separators. Real names in any script (and emoji) still pass.

Also the document's promises: internationalized addresses (``idn-email``), and a ``status``
that must be one of its values, empty included.
"""

from __future__ import annotations

import pytest

from dashboard.api.openapi import DOCUMENT
from tests.api.records import booking_body, counts

HOSTILE = {
    "right-to-left override": "Ana \u202egnp.exe",
    "left-to-right isolate": "Ana \u2066x\u2069",
    "zero-width space": "An\u200ba",
    "zero-width joiner between Latin letters": "An\u200da",
    "word joiner": "An\u2060a",
    "byte order mark": "\ufeffAna",
    "soft hyphen": "An\u00ada",
    "DEL": "Ana\x7f",
    "C1 control (CSI)": "Ana\x9b31m",
    "line separator": "Ana\u2028Silva",
    "paragraph separator": "Ana\u2029Silva",
    "NUL": "Ana\x00",
    "tab": "Ana\tSilva",
}
FIELDS = {
    "title": lambda text: booking_body(title=text),
    "external_ref": lambda text: booking_body(ref=text),
    "customer.name": lambda text: booking_body(customer={"name": text,
                                                         "email": "ana@example.test"}),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("field", FIELDS)
def test_hidden_characters_in_free_text_are_refused_naming_the_field(app, api, field, text):
    before = counts(app)
    response = api.post("bookings", FIELDS[field](text))
    assert response.status_code == 422
    [error] = [e for e in response.get_json()["errors"] if e["field"] == field]
    assert error["message"].startswith("must not contain control characters (U+")
    assert counts(app) == before


@pytest.mark.parametrize("text", [
    "João Conceição", "Zoë O'Brien-Łukasz", "محمد عبد الله", "שרה כהן", "李小龙",
    "Ōsaka 大阪 🎉", "Dr. 👩\u200d⚕️ Silva", "می\u200cخواهم", "Ana\u00a0Silva",
], ids=["portuguese", "latin-extended", "arabic", "hebrew", "chinese", "emoji",
        "emoji-zwj-sequence", "persian-zwnj", "no-break-space"])
def test_real_names_in_any_script_pass(app, api, text):
    response = api.post("bookings", booking_body(title=text, customer={
        "name": text, "email": "ana@example.test"}))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["title"] == text


def test_a_reschedule_refuses_a_disguised_title_and_changes_nothing(app, api):
    created = api.post("bookings", booking_body()).get_json()
    response = api.patch(f"bookings/{created['id']}", {"title": "Consult \u202eation"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "title"
    assert api.get(f"bookings/{created['id']}").get_json()["title"] == created["title"]


@pytest.mark.parametrize("query", [{"q": "a\u202eb"}, {"q": "a\x7fb"}, {"status": ""}],
                         ids=["bidi in search", "DEL in search", "empty status"])
def test_listing_refuses_what_its_document_does_not_allow(app, api, query):
    response = api.get("bookings", query_string=query)
    assert response.status_code == 422
    assert [error["field"] for error in response.get_json()["errors"]] == list(query)


def test_a_nul_in_the_booking_id_is_a_json_404(app, api):
    response = api.get("bookings/a\x00b")
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"]


def test_internationalized_addresses_are_accepted_as_the_document_says(app, api):
    customer = DOCUMENT["components"]["schemas"]["Customer"]["properties"]["email"]
    assert customer["format"] == "idn-email"
    response = api.post("bookings", booking_body(customer={"name": "José",
                                                           "email": "josé@exemplo.test"}))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["customer"]["email"] == "josé@exemplo.test"


def test_no_email_in_the_document_says_plain_email():
    def formats(node):
        if isinstance(node, dict):
            yield node.get("format")
            for value in node.values():
                yield from formats(value)
        elif isinstance(node, list):
            for value in node:
                yield from formats(value)

    assert "email" not in set(formats(DOCUMENT))
