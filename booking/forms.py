"""The base of every form: CSRF from Flask-WTF, messages in French from WTForms' own catalogue."""

from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")
