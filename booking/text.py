"""What a typed text may contain. Pure functions: no Flask, no database."""

import re
import unicodedata

# C0 and C1 control characters (NUL, escape, line breaks…) and lone UTF-16 surrogates: nothing a
# person types, and each breaks something downstream (an email header, a PDF, the database driver).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

CONTROL_MESSAGE = "Ce champ contient des caractères invisibles ou de contrôle : retapez-le."
LINE_BREAK_MESSAGE = "Ce champ tient sur une seule ligne : retirez les retours à la ligne."


def text_problem(value: str, multiline: bool = False) -> str | None:
    """Return why a typed text is refused (in French), or None when it is acceptable."""
    if not isinstance(value, str):
        return None
    if (_CONTROL_BUT_LINES if multiline else _CONTROL).search(value) is None:
        return None
    if not multiline and _CONTROL_BUT_LINES.search(value) is None:
        return LINE_BREAK_MESSAGE
    return CONTROL_MESSAGE


_ROW_ID = re.compile("[0-9]{1,10}")
_LARGEST_ROW_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL


def row_id(text: str | None) -> int | None:
    """Read a row id from a link or a form: ASCII digits within the id column's range, else None.

    ``str.isdigit`` also says yes to « ² » and « ٣ », which ``int`` then refuses or reads, and to twenty digits,
    which no database column holds: both reached the database as a 500.
    """
    if not text or not _ROW_ID.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= _LARGEST_ROW_ID else None


def french_order(text: str) -> tuple[str, str]:
    """Sort key for French words: « Gériatre » before « Gynécologue » (an accent is not a letter after z)."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return plain.replace("œ", "oe").replace("Œ", "Oe").casefold(), text


def of_place(name: str) -> str:
    """« de » before a place name, as French says it: de Salers, d’Aurillac, du Fau, des Ternes, de La Chapelle."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    plain = french_order(name[:1])[0]
    return f"d’{name}" if plain and plain in "aeiouy" else f"de {name}"
