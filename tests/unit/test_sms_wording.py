"""Every SMS is one GSM-7 segment, for the longest names France has and a public address of 40 characters."""

from datetime import UTC, datetime

import pytest

from booking.outgoing import sms
from notifications.gsm import is_gsm7, segments

LONGEST_COMMUNE = "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson"  # 45 characters, Marne
BASE = "https://" + "r" * 29 + ".fr"  # a public address of 40 characters
TOKEN = "9999999-" + "A" * 16  # the largest appointment id we plan for, and its signature
# Wednesday 29 September 2027, 10:30 in Paris: the longest day and month names, two-digit hours.
WORST = sms.Visit(datetime(2027, 9, 29, 8, 30, tzinfo=UTC), "Europe/Paris",
                  "Maison de santé pluriprofess.", LONGEST_COMMUNE, "RZ8K2M4Q")


def _messages(visit):
    return {
        "confirmation": sms.confirmation(visit, f"{BASE}/a/{TOKEN}"),
        "reminder": sms.reminder(visit, f"{BASE}/a/{TOKEN}"),
        "cancelled by the patient": sms.cancelled_by_patient(visit),
        "cancelled by the site": sms.cancelled_by_site(visit, f"{BASE}/lieux/9999999"),
        "waiting-list offer": sms.waitlist_offer(visit, 30, f"{BASE}/attente/{TOKEN}"),
        "verification code": sms.verification_code("482913", 10),
        "password reset": sms.password_reset(f"{BASE}/mot-de-passe/{'A' * 22}", 30),
        "relative confirmation": sms.relative_confirmation("Marie-Bernadette de La Tour d'Auvergne-Lauraguais"),
        "to a caregiver": sms.for_caregiver(visit, "Marie-Bernadette-Clotilde", f"{BASE}/a/{TOKEN}", False),
        "reminder to a caregiver": sms.for_caregiver(visit, "Marie-Bernadette-Clotilde", f"{BASE}/a/{TOKEN}", True),
        "feedback request": sms.feedback_request(visit, f"{BASE}/avis/{TOKEN}"),
        "help": sms.reply_help(), "stopped": sms.reply_stopped(), "subscribed": sms.reply_subscribed(),
        "nothing to cancel": sms.reply_nothing_to_cancel(),
    }


@pytest.mark.parametrize("kind", list(_messages(WORST)))
def test_every_message_is_one_gsm7_segment_in_the_worst_case(kind):
    text = _messages(WORST)[kind]
    assert is_gsm7(text) and segments(text) == 1, f"{kind}: {len(text)} characters: {text}"
    assert "�" not in text and "Empeche" not in text.replace("é", "e")


def test_the_fullest_wording_that_fits_is_sent():
    demo = sms.Visit(datetime(2027, 3, 2, 8, 0, tzinfo=UTC), "Europe/Paris", "Cabine de Saint-Bonnet",
                     "Saint-Bonnet-de-Salers", "K7P2X9QA")
    text = sms.confirmation(demo, "https://rdv.saint-bonnet.fr/a/1234-ABCDEFGHIJKLMNOP")
    assert text.startswith("RDV confirmé mardi 2 mars à 9 h, Cabine de Saint-Bonnet. Réf.")  # the date in words first
    assert segments(text) == 1
    short_address = sms.confirmation(demo, "https://rdv.fr/a/1234-ABCDEFGHIJKLMNOP")
    assert short_address.startswith("RDV confirmé mardi 2 mars à 9 h, Cabine de Saint-Bonnet, Saint-Bonnet-de-Salers.")
    worst = sms.confirmation(WORST, f"{BASE}/a/{TOKEN}")
    assert "Maison de santé pluriprofess." in worst and "RZ8K2M4Q" in worst and worst.endswith(TOKEN)


def test_the_commune_is_not_repeated_when_the_label_names_it():
    pleaux = sms.Visit(datetime(2027, 3, 5, 8, 0, tzinfo=UTC), "Europe/Paris", "Permanence de Pleaux",
                       "Pleaux", "K7P2X9QA")
    assert "Permanence de Pleaux." in sms.reminder(pleaux, "https://rdv.example.fr/a/1-X")
    assert "Pleaux, Pleaux" not in sms.reminder(pleaux, "https://rdv.example.fr/a/1-X")
