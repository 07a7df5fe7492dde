"""French typography on every HTML page: no line break before : ; ? !, inside « », a time or a phone number."""

import re

from flask import Flask

# Only the text between tags that holds something to fix (most of a page's text is blank between tags).
_TEXT = re.compile(r">([^<]*[:;?!«»0-9][^<]*)<")
_BEFORE_COLON = re.compile(r"(?<=\S) :(?=\s|$)")
_BEFORE_PUNCT = re.compile(r"(?<=\S) ([;?!])")
_HOUR = re.compile(r"\b(\d{1,2}) h(?: (\d{2}))?\b")
_PHONE = re.compile(r"\b0\d(?: \d{2}){4}\b|\+\d{2,3}(?: \d{1,4}){3,5}\b")
NBSP, NNBSP = "\u00a0", "\u202f"


def french_spacing(text: str) -> str:
    """Use no-break spaces before ':' ';' '?' '!', inside guillemets, times and phone numbers."""
    # « 9 h 30 » and « 06 12 34 56 78 » never break across lines (only in pages: SMS stay in plain GSM-7).
    text = _HOUR.sub(lambda m: m.group(1) + NNBSP + "h" + (NNBSP + m.group(2) if m.group(2) else ""), text)
    text = _PHONE.sub(lambda m: m.group(0).replace(" ", NBSP), text)
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_PUNCT.sub(NNBSP + r"\1", text)
    return text.replace("« ", "«" + NNBSP).replace(" »", NNBSP + "»")


def fix_html(html: str) -> str:
    # Only text between tags: attributes, URLs and the code of the page are left alone.
    parts = re.split(r"(<textarea.*?</textarea>)", html, flags=re.S)
    return "".join(part if part.startswith("<textarea") else _TEXT.sub(lambda m: ">" + french_spacing(m.group(1)) + "<",
                                                                        part) for part in parts)


def init_typography(app: Flask) -> None:
    @app.after_request
    def typography(response):
        if response.mimetype == "text/html" and not response.direct_passthrough:
            response.set_data(fix_html(response.get_data(as_text=True)))
        return response
