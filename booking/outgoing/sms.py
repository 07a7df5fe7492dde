"""What the platform says by SMS. Each text is one GSM-7 segment for any site, with a public URL of 40 characters.

An SMS carries the date, local time, place, reference and a link: never the reason, the profession,
the specialty or the practitioner's name.
"""

from notifications.gsm import to_gsm7


def confirmation(when: str, where: str, reference: str, cancel_url: str) -> str:
    """The booking is confirmed."""
    return to_gsm7(f"RDV confirmé {when}, {where}. Réf. {reference}. Pour annuler : {cancel_url}")


def reminder(when: str, where: str, reference: str, cancel_url: str) -> str:
    """The appointment is near; a person who cannot come frees the place."""
    return to_gsm7(f"Rappel RDV {when}, {where}. Réf. {reference}. Empêché ? Libérez la place : {cancel_url}")


def cancelled_by_patient(when: str, where: str, reference: str) -> str:
    """The patient's own cancellation is done."""
    return to_gsm7(f"Votre RDV du {when} ({where}) est bien annulé. Réf. {reference}. Merci.")


def cancelled_by_site(when: str, where: str, other_slots_url: str) -> str:
    """The site or the practitioner cancelled: where to find another slot."""
    return to_gsm7(f"Désolé : votre RDV du {when} ({where}) est annulé par le lieu de soins. "
                   f"Autres créneaux : {other_slots_url}")


def waitlist_offer(when: str, site_name: str, minutes: int, offer_url: str) -> str:
    """A freed slot, held for the first person waiting."""
    return to_gsm7(f"Une place se libère {when}, {site_name}. Gardée pour vous {minutes} min : {offer_url}")


def verification_code(code: str, minutes: int) -> str:
    """The code that proves a resident's mobile."""
    return to_gsm7(f"Votre code de vérification : {code}. Il expire dans {minutes} minutes.")


def relative_confirmation(holder_name: str) -> str:
    """Ask a relative's own mobile whether it wants the reminders someone else signed it up for."""
    holder = " ".join((holder_name or "").split())[:40] or "Un proche"
    return to_gsm7(f"Rendez-vous santé : {holder} vous a inscrit comme proche. Pour recevoir par SMS les rappels "
                   "de vos rendez-vous, répondez OUI.")


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
