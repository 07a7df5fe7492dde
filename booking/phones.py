"""Phone numbers: parse what people type into E.164, and show it the French way."""

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from booking.errors import InvalidInput

# A national number ("0690 12 34 56") is read in the region of the patient's département.
DEPARTEMENT_PHONE_REGIONS = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


@dataclass(frozen=True)
class ParsedPhone:
    e164: str
    kind: str  # "mobile" or "landline"


def phone_region(departement_code: str | None) -> str:
    """Return the region used to read a national number for a département."""
    return DEPARTEMENT_PHONE_REGIONS.get(departement_code or "", "FR")


def parse_phone(text: str, departement_code: str | None = None) -> ParsedPhone:
    """Parse a French (mainland or overseas) phone number; raise InvalidInput when it is not one."""
    raw = (text or "").strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, phone_region(departement_code))
    except phonenumbers.NumberParseException:
        raise InvalidInput("Ce numéro de téléphone n’est pas valide.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("Ce numéro de téléphone n’est pas valide.")
    kind = "mobile" if phonenumbers.number_type(number) in _MOBILE_TYPES else "landline"
    return ParsedPhone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind)


def looks_like_phone(text: str | None) -> bool:
    """Whether a search box holds a phone number rather than a name: digits (and spacing), no letter."""
    raw = (text or "").strip()
    return sum(ch.isdigit() for ch in raw) >= 8 and not any(ch.isalpha() for ch in raw)


def phone_candidates(text: str) -> list[str]:
    """Every E.164 number a typed number may be: « 0690 12 34 56 » is a Guadeloupe mobile, not a Paris one."""
    found = []
    for departement in (None, *DEPARTEMENT_PHONE_REGIONS):  # mainland first, then each overseas region
        try:
            e164 = parse_phone(text, departement).e164
        except InvalidInput:
            continue
        if e164 not in found:
            found.append(e164)
    return found


def format_phone(e164: str | None) -> str:
    """Show a stored number as a French reader expects ("06 12 34 56 78")."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
