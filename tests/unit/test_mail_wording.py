"""A patient's e-mail: its text and HTML parts say the same thing, in French, and nothing typed is run as HTML."""

import html
from datetime import UTC, datetime

import pytest

from booking.outgoing import mail

WHEN = datetime(2027, 3, 4, 10, 0, tzinfo=UTC)
PLACE = mail.Place("Cabine <b>de</b> Saint-Bonnet", "2 place de l’Église", "15140", "Saint-Bonnet-de-Salers",
                   "+33471000000", "Apportez votre carte Vitale & vos ordonnances.")

LETTERS = {
    "confirmation": mail.confirmation(WHEN, "Europe/Paris", PLACE, "ABC-123", "Jeanne", "https://rdv.test/a/1-x"),
    "rescheduled": mail.rescheduled(WHEN, "Europe/Paris", PLACE, "ABC-123", "Jeanne", "https://rdv.test/a/1-x",
                                    datetime(2027, 3, 2, 8, 0, tzinfo=UTC), "Europe/Paris"),
    "reminder": mail.reminder(WHEN, "Europe/Paris", PLACE, "ABC-123", "Jeanne", "https://rdv.test/a/1-x",
                              "https://rdv.test/e/rappels/1-y"),
    "cancelled_by_patient": mail.cancelled_by_patient(WHEN, "Europe/Paris", PLACE, "ABC-123", "Jeanne"),
    "cancelled_by_site": mail.cancelled_by_site(WHEN, "Europe/Paris", PLACE, "ABC-123", "Jeanne",
                                                "https://rdv.test/lieux/1"),
    "waitlist_offer": mail.waitlist_offer(WHEN, "Europe/Paris", PLACE, "Jeanne", 30, "https://rdv.test/attente/1-z"),
}


def _plain(text: str) -> str:
    return html.unescape(text).replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize("kind", LETTERS)
def test_both_parts_say_every_fact_and_link(kind):
    letter = LETTERS[kind]
    text, page = mail.as_text(letter), mail.as_html(letter)
    shown = _plain(page)
    for paragraph in letter.paragraphs:
        assert paragraph in text and paragraph in shown
    for label, value in letter.facts:
        assert f"{label} : {value}" in text and value in shown
    for link in (letter.action, letter.footer_link):
        if link:
            assert link[1] in text and f'href="{link[1]}"' in page
    assert "jeudi 4 mars à 11 h" in text  # 10:00 UTC in Paris's winter time


def test_what_is_typed_is_shown_not_run_and_french_spaces_do_not_break():
    page = mail.as_html(LETTERS["confirmation"])
    assert "<b>de</b>" not in page and "&lt;b&gt;de&lt;/b&gt;" in page
    assert "&amp; vos ordonnances" in page
    assert "Quand</dt>" in page and "04\u00a071\u00a000\u00a000\u00a000" in page
    assert '<html lang="fr">' in page
