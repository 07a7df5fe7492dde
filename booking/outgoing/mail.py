"""What the platform says by e-mail: to patients about their appointments (beside the SMS wording, and saying
no more than an SMS: no reason, profession, specialty or practitioner), the practitioner's invitation and the
commune's monthly report.

A patient's e-mail is one ``Letter``; its plain-text and HTML parts are both drawn from it, so they cannot
say different things.
"""

from dataclasses import dataclass, field
from datetime import datetime

from jinja2 import Environment

from booking.formatting import format_moment
from booking.phones import format_phone
from booking.typography import fix_html


@dataclass(frozen=True)
class Place:
    """What an e-mail says of where to go and whom to call."""

    name: str
    address: str
    postal_code: str
    commune: str
    phone: str | None = None  # E.164
    instructions: str | None = None

    @property
    def full_address(self) -> str:
        return f"{self.address}, {self.postal_code} {self.commune}"


@dataclass(frozen=True)
class Letter:
    subject: str
    greeting: str
    paragraphs: list[str]
    facts: list[tuple[str, str]] = field(default_factory=list)
    action: tuple[str, str] | None = None  # the link's words, its address
    closing: list[str] = field(default_factory=list)
    footer_link: tuple[str, str] | None = None  # a quieter link, e.g. to stop reminders


def _when(starts_at: datetime, time_zone: str) -> str:
    return format_moment(starts_at, time_zone)


def _facts(starts_at: datetime, time_zone: str, place: Place, reference: str) -> list[tuple[str, str]]:
    facts = [("Quand", _when(starts_at, time_zone)), ("Où", f"{place.name}, {place.full_address}"),
             ("Référence", reference)]
    if place.phone:
        facts.append(("Téléphone du lieu", format_phone(place.phone)))
    if place.instructions:
        facts.append(("À savoir", place.instructions))
    return facts


def _cannot_use_link(place: Place) -> list[str]:
    if not place.phone:
        return []
    return [f"Si vous ne pouvez pas utiliser ce lien, appelez le {format_phone(place.phone)}."]


def _hello(first_name: str) -> str:
    return f"Bonjour {first_name},"


def confirmation(starts_at: datetime, time_zone: str, place: Place, reference: str, first_name: str,
                 cancel_url: str) -> Letter:
    return Letter(
        f"Rendez-vous confirmé : {_when(starts_at, time_zone)}, {place.name}", _hello(first_name),
        ["Votre rendez-vous est confirmé. L’invitation jointe l’ajoute à votre agenda.",
         "Vous recevrez un rappel la veille."],
        _facts(starts_at, time_zone, place, reference), ("Annuler ce rendez-vous", cancel_url),
        ["Si vous ne pouvez pas venir, annulez : la place ira à quelqu’un qui attend.", *_cannot_use_link(place)])


def rescheduled(starts_at: datetime, time_zone: str, place: Place, reference: str, first_name: str,
                cancel_url: str, before: datetime, before_time_zone: str) -> Letter:
    return Letter(
        f"Rendez-vous déplacé : {_when(starts_at, time_zone)}, {place.name}", _hello(first_name),
        [f"Votre rendez-vous du {_when(before, before_time_zone)} est déplacé. Le voici :",
         "L’invitation jointe met votre agenda à jour."],
        _facts(starts_at, time_zone, place, reference), ("Annuler ce rendez-vous", cancel_url),
        _cannot_use_link(place))


def reminder(starts_at: datetime, time_zone: str, place: Place, reference: str, first_name: str,
             cancel_url: str, unsubscribe_url: str) -> Letter:
    return Letter(
        f"Rappel : rendez-vous {_when(starts_at, time_zone)}, {place.name}", _hello(first_name),
        ["Nous vous rappelons votre rendez-vous.",
         "Si vous ne pouvez pas venir, annulez-le : la place ira à quelqu’un qui attend."],
        _facts(starts_at, time_zone, place, reference), ("Annuler ce rendez-vous", cancel_url),
        _cannot_use_link(place),
        ("Ne plus recevoir les rappels par e-mail (les confirmations continuent)", unsubscribe_url))


def cancelled_by_patient(starts_at: datetime, time_zone: str, place: Place, reference: str,
                         first_name: str) -> Letter:
    return Letter(
        f"Rendez-vous annulé : {_when(starts_at, time_zone)}, {place.name}", _hello(first_name),
        [f"Votre rendez-vous du {_when(starts_at, time_zone)} ({place.name}) est bien annulé. Merci de "
         "l’avoir fait : la place est proposée à quelqu’un d’autre."],
        [("Référence", reference)])


def cancelled_by_site(starts_at: datetime, time_zone: str, place: Place, reference: str, first_name: str,
                      other_slots_url: str) -> Letter:
    phone = f" ou appelez le {format_phone(place.phone)}" if place.phone else ""
    return Letter(
        f"Rendez-vous annulé par le lieu : {_when(starts_at, time_zone)}, {place.name}", _hello(first_name),
        [f"Nous sommes désolés : votre rendez-vous du {_when(starts_at, time_zone)} ({place.name}) est annulé "
         "par le lieu de consultation.",
         f"Choisissez un autre créneau en ligne{phone}."],
        [("Référence", reference)], ("Voir les autres créneaux", other_slots_url))


def waitlist_offer(starts_at: datetime, time_zone: str, place: Place, first_name: str, minutes: int,
                   offer_url: str) -> Letter:
    return Letter(
        f"Une place s’est libérée : {_when(starts_at, time_zone)}, {place.name}", _hello(first_name),
        [f"Une place s’est libérée le {_when(starts_at, time_zone)} ({place.name}, {place.full_address}).",
         f"Elle vous est réservée {minutes} minutes : ouvrez le lien pour la prendre."],
        [], ("Prendre cette place", offer_url), _cannot_use_link(place))


_BUTTON = "display:inline-block;padding:.6em 1em;background:#000091;color:#fff;text-decoration:underline"
_HTML = Environment(autoescape=True).from_string("""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ letter.subject }}</title></head>
<body style="font-family:Arial,sans-serif;font-size:16px;line-height:1.5;color:#1b1b1b;max-width:40em">
<p>{{ letter.greeting }}</p>
{% for paragraph in letter.paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}{% if letter.facts %}<dl>
{% for label, value in letter.facts %}<dt style="font-weight:bold">{{ label }}</dt>
<dd style="margin:0 0 .5em 0">{{ value }}</dd>
{% endfor %}</dl>
{% endif %}{% if letter.action %}<p><a href="{{ letter.action[1] }}" style="{{ button }}">{{ letter.action[0] }}</a></p>
{% endif %}{% for line in letter.closing %}<p>{{ line }}</p>
{% endfor %}{% if letter.footer_link %}<p><a href="{{ letter.footer_link[1] }}">{{ letter.footer_link[0] }}</a></p>
{% endif %}<p>Rendez-vous santé, la plateforme de rendez-vous de votre commune.</p>
</body></html>
""")


def as_text(letter: Letter) -> str:
    lines = [letter.greeting, "", *[line for paragraph in letter.paragraphs for line in (paragraph, "")]]
    if letter.facts:
        lines += [f"{label} : {value}" for label, value in letter.facts] + [""]
    if letter.action:
        lines += [f"{letter.action[0]} : {letter.action[1]}", ""]
    lines += [line for closing in letter.closing for line in (closing, "")]
    if letter.footer_link:
        lines += [f"{letter.footer_link[0]} : {letter.footer_link[1]}", ""]
    lines.append("Rendez-vous santé, la plateforme de rendez-vous de votre commune.")
    return "\n".join(lines)


def as_html(letter: Letter) -> str:
    """The HTML part, with French spaces in its text (not in its tags and links), as on the pages."""
    return fix_html(_HTML.render(letter=letter, button=_BUTTON))


def invitation_subject(site_name: str) -> str:
    return f"Invitation à consulter : {site_name}"


def invitation_body(site_name: str, commune_name: str, accept_url: str, valid_days: int) -> str:
    return (f"Bonjour,\n\n{site_name} ({commune_name}) vous invite à publier vos disponibilités "
            f"sur la plateforme de rendez-vous de la commune.\n\nPour accepter, ouvrez ce lien "
            f"(valable {valid_days} jours) :\n{accept_url}\n\n"
            f"Si vous ne connaissez pas ce lieu, ignorez ce message.")


def report_subject(month: str, commune_name: str) -> str:
    return f"Consultations de {month} — {commune_name}"


def report_body(month: str, commune_name: str, headline: list[tuple[str, str]]) -> str:
    return "\n".join([f"Consultations — {commune_name}, {month}", ""]
                     + [f"{label} : {value}" for label, value in headline]
                     + ["", "Le rapport complet (PDF) et les chiffres (CSV) sont joints."])


def reset_subject() -> str:
    return "Choisir un nouveau mot de passe"


def reset_body(link: str, valid_minutes: int) -> str:
    return (f"Bonjour,\n\nVous avez demandé à choisir un nouveau mot de passe pour Rendez-vous santé.\n\n"
            f"Ouvrez ce lien (valable {valid_minutes} minutes, une seule fois) :\n{link}\n\n"
            f"Si vous n’avez rien demandé, ignorez ce message : votre mot de passe ne change pas.")
