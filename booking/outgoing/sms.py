"""What the platform says by SMS. Each text is one GSM-7 segment (160 characters) for any site and commune,
with a public URL of up to 40 characters: the fullest wording that fits is sent.

An SMS carries the date, local time, place, reference and a link: never the reason, the profession,
the specialty or the practitioner's name.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from booking.formatting import WEEKDAY_ABBREVIATIONS, format_moment
from booking.geo.rules import search_key
from notifications.gsm import segments, to_gsm7


@dataclass(frozen=True)
class Visit:
    """What an SMS may say of an appointment: when and where, and its reference."""

    starts_at: datetime
    time_zone: str
    place: str    # the site's short SMS label (30 characters at most)
    commune: str
    reference: str


def _whens(visit: Visit) -> list[str]:
    local = visit.starts_at.astimezone(ZoneInfo(visit.time_zone))
    short = f"{WEEKDAY_ABBREVIATIONS[local.weekday()]} {local:%d/%m} {local.hour}h{local:%M}"
    return [format_moment(visit.starts_at, visit.time_zone), short]


def _wheres(visit: Visit) -> list[str]:
    place = visit.place.rstrip(". ")
    # The label often names its commune already ("Permanence de Pleaux"): then it is not repeated.
    if search_key(visit.commune) in search_key(place):
        return [place]
    return [f"{place}, {visit.commune}", place]


def _one_segment(variants) -> str:
    """The first wording that fits one GSM-7 segment (160 characters): the fullest one that is not dearer."""
    text = ""
    for variant in variants:  # built one at a time: the first that fits ends the search
        text = to_gsm7(variant)
        if segments(text) == 1:
            break
    return text


def _about(visit: Visit, *wordings) -> str:
    """Try each wording (fullest first): the date in words before the short one, the commune while it fits.

    A date written out ("jeudi 4 mars à 11 h") is what an elderly reader understands first; the site's
    label already says where to go.
    """
    return _one_segment(wording(when, where) for wording in wordings
                        for when in _whens(visit) for where in _wheres(visit))


def confirmation(visit: Visit, cancel_url: str) -> str:
    """The booking is confirmed."""
    return _about(visit, lambda when, where: f"RDV confirmé {when}, {where}. Réf. {visit.reference}. "
                                             f"Pour annuler : {cancel_url}",
                  lambda when, where: f"RDV {when}, {where}. Réf. {visit.reference}. Annuler : {cancel_url}")


def reminder(visit: Visit, cancel_url: str) -> str:
    """The appointment is near; a person who cannot come frees the place."""
    return _about(visit, lambda when, where: f"Rappel RDV {when}, {where}. Réf. {visit.reference}. "
                                             f"Si vous ne pouvez pas venir : {cancel_url}",
                  lambda when, where: f"Rappel RDV {when}, {where}. Réf. {visit.reference}. Annuler : {cancel_url}")


def cancelled_by_patient(visit: Visit) -> str:
    """The patient's own cancellation is done."""
    return _about(visit, lambda when, where: f"Votre RDV du {when} ({where}) est bien annulé. "
                                             f"Réf. {visit.reference}. Merci.")


def cancelled_by_site(visit: Visit, other_slots_url: str) -> str:
    """The site or the practitioner cancelled: where to find another slot."""
    return _about(visit, lambda when, where: f"Désolé : votre RDV du {when} ({where}) est annulé par le lieu de "
                                             f"soins. Autres créneaux : {other_slots_url}",
                  lambda when, where: f"RDV du {when} ({where}) annulé par le lieu. Autres créneaux : "
                                      f"{other_slots_url}")


def waitlist_offer(visit: Visit, minutes: int, offer_url: str) -> str:
    """A freed slot, held for the first person waiting."""
    return _about(visit, lambda when, where: f"Une place se libère {when}, {where}. Gardée pour vous {minutes} min : "
                                             f"{offer_url}",
                  lambda when, where: f"Place libre {when}, {where}, gardée {minutes} min : {offer_url}")


def verification_code(code: str, minutes: int) -> str:
    """The code that proves a resident's mobile."""
    return to_gsm7(f"Votre code de vérification : {code}. Il expire dans {minutes} minutes.")


def relative_confirmation(holder_name: str) -> str:
    """Ask a relative's own mobile whether it wants the reminders someone else signed it up for."""
    holder = " ".join((holder_name or "").split())[:40] or "Un proche"
    return to_gsm7(f"Rendez-vous santé : {holder} vous a inscrit comme proche. Pour recevoir par SMS les rappels "
                   "de vos rendez-vous, répondez OUI.")


def password_reset(link: str, minutes: int) -> str:
    """The single-use link to choose a new password."""
    return to_gsm7(f"Nouveau mot de passe : {link} (valable {minutes} min, une fois). Pas demandé ? Ignorez ce SMS.")


# Answers to what people send to our number.
def reply_help() -> str:
    return to_gsm7("Pour annuler votre prochain rendez-vous, répondez ANNULER. "
                   "Pour ne plus recevoir de SMS, répondez STOP. Questions : votre mairie.")


def reply_stopped() -> str:
    return to_gsm7("Vous ne recevrez plus de SMS de notre part. Pour les réactiver, adressez-vous à votre mairie.")


def reply_subscribed() -> str:
    return to_gsm7("Merci : vous recevrez par SMS les rappels de vos rendez-vous. Pour les arrêter, répondez STOP.")


def reply_nothing_to_cancel() -> str:
    return to_gsm7("Aucun rendez-vous à venir n'est associé à ce numéro.")


def for_caregiver(visit: Visit, first_name: str, cancel_url: str, reminder: bool) -> str:
    """To the caregiver (aidant) of a patient without a mobile: whose appointment, when, where; nothing medical."""
    name = first_name.strip()[:20]
    short = re.split(r"[\s-]", name)[0][:12]
    head = "Rappel : " if reminder else ""
    return _about(visit, lambda when, where: f"{head}{name} (que vous aidez) a RDV {when}, {where}. "
                                             f"Réf. {visit.reference}. Annuler : {cancel_url}",
                  lambda when, where: f"{head}{name} a RDV {when}, {where}. Réf. {visit.reference}. "
                                      f"Annuler : {cancel_url}",
                  lambda when, where: f"{head}RDV de {name} {when}, {where}. Réf. {visit.reference}. {cancel_url}",
                  # A long compound first name: its first part is enough for whoever helps the person.
                  lambda when, where: f"{head}RDV de {short} {when}, {where}. Réf. {visit.reference}. {cancel_url}")


def feedback_request(visit: Visit, url: str) -> str:
    """After a consultation: two questions, to show the commune whether it is worth it."""
    return _about(visit, lambda when, where: f"Votre consultation du {when} ({where}) vous a-t-elle été utile ? "
                                             f"2 questions anonymes : {url} Merci !",
                  lambda when, where: f"Consultation du {when} : utile ? 2 questions anonymes : {url}")
