"""What a reminder call says, in French, for a text-to-speech voice: when and where, never what for."""

from datetime import datetime
from zoneinfo import ZoneInfo

from booking.formatting import format_day
from booking.phones import format_phone


def spoken_time(moment: datetime) -> str:
    """« 9 heures 20 », « 14 heures » : what a voice reads without stumbling on « h »."""
    return f"{moment.hour} heure{'s' if moment.hour > 1 else ''}" + (f" {moment.minute}" if moment.minute else "")


def reminder_call(starts_at: datetime, time_zone: str, place: str, address: str, commune: str, now: datetime,
                  mairie_phone: str | None) -> str:
    """The reminder read to a landline, with the keys to press (no reason, profession or practitioner)."""
    local = starts_at.astimezone(ZoneInfo(time_zone))
    today = now.astimezone(ZoneInfo(time_zone)).date()
    day = format_day(local, with_year=False)
    when = f"demain, {day}" if (local.date() - today).days == 1 else f"le {day}"
    call_back = (f" Pour toute question, appelez la mairie au {format_phone(mairie_phone)}."
                 if mairie_phone else "")
    return (f"Bonjour. Ceci est un rappel de rendez-vous médical. Vous avez rendez-vous {when}, à "
            f"{spoken_time(local)}, à : {place}, {address}, à {commune}.{call_back} "
            f"Pour confirmer votre venue, tapez 1. Pour annuler ce rendez-vous, tapez 2. "
            f"Pour réécouter ce message, tapez 3.")


def answer(digit: str, mairie_phone: str | None) -> str:
    """What the voice says after a key."""
    if digit == "1":
        return "Merci, votre venue est confirmée. À bientôt."
    if digit == "2":
        return ("Votre rendez-vous est annulé, et la place est libérée pour quelqu’un d’autre. "
                + (f"Pour en prendre un autre, appelez la mairie au {format_phone(mairie_phone)}. "
                   if mairie_phone else "") + "Au revoir.")
    return "Ce rendez-vous n’est plus à venir. Au revoir."
