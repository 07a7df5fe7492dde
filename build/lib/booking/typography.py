"""French typography on every HTML page: no line break before : ; ? ! nor inside « »."""

import re

from flask import Flask

_TEXT = re.compile(r">([^<]+)<")
_BEFORE_COLON = re.compile(r"(?<=\S) :(?=\s|$)")
_BEFORE_PUNCT = re.compile(r"(?<=\S) ([;?!])")
NBSP, NNBSP = "\u00a0", "\u202f"


def french_spacing(text: str) -> str:
    """Use a no-break space before ':' and a narrow one before ';', '?', '!' and inside guillemets."""
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_PUNCT.sub(NNBSP + r"\1", text)
    return text.replace("« ", "«" + NNBSP).replace(" »", NNBSP + "»")


def _fix_html(html: str) -> str:
    # Only text between tags: attributes, URLs and the code of the page are left alone.
    parts = re.split(r"(<textarea.*?</textarea>)", html, flags=re.S)
    return "".join(part if part.startswith("<textarea") else _TEXT.sub(lambda m: ">" + french_spacing(m.group(1)) + "<",
                                                                        part) for part in parts)


def init_typography(app: Flask) -> None:
    @app.after_request
    def typography(response):
        if response.mimetype == "text/html" and not response.direct_passthrough:
            response.set_data(_fix_html(response.get_data(as_text=True)))
        return response
