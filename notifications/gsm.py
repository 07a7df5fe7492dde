"""GSM 03.38: which texts fit the 7-bit alphabet, how many segments they take, transliteration."""

import unicodedata
from functools import lru_cache

# The basic GSM 7-bit alphabet, and the extension characters that take two septets.
_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENDED = set("^{}\\[~]|€\f")
_GSM7 = frozenset(_BASIC | _EXTENDED)
_REPLACEMENTS = {
    "’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"', "–": "-", "—": "-", "…": "...",
    "œ": "oe", "Œ": "OE", "ç": "c", "\u00a0": " ", "\u202f": " ", "•": "-",
}


def is_gsm7(text: str) -> bool:
    """Tell whether every character of the text is in the GSM 7-bit alphabet."""
    return _GSM7.issuperset(text)


def septets(text: str) -> int:
    """Return the length of the text in GSM septets (extension characters count twice)."""
    return len(text) + sum(map(text.count, _EXTENDED))


def segments(text: str) -> int:
    """Return how many SMS segments the text takes (GSM-7: 160 / 153; UCS-2: 70 / 67)."""
    if is_gsm7(text):
        length, single, multi = septets(text), 160, 153
    else:
        # UCS-2 counts UTF-16 code units.
        length, single, multi = len(text.encode("utf-16-le")) // 2, 70, 67
    if length <= single:
        return 1
    return -(-length // multi)


def to_gsm7(text: str) -> str:
    """Replace what GSM-7 lacks (ê, ç, ’, « »…) by the nearest characters it has."""
    if _GSM7.issuperset(text):  # most texts, checked at C speed (a booking writes several)
        return text
    return "".join(map(_nearest_gsm7, text))


@lru_cache(maxsize=4096)  # the characters met, a few hundred at most in practice
def _nearest_gsm7(ch: str) -> str:
    ch = _REPLACEMENTS.get(ch, ch)
    if _GSM7.issuperset(ch):
        return ch
    stripped = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return stripped if stripped and _BASIC.issuperset(stripped) else "?"
