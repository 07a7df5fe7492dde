"""Login and password forms."""

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from booking.forms import BaseForm, NewPasswordFields


class LoginForm(BaseForm):
    login = StringField("Adresse e-mail ou numéro de mobile", validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username"})
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class PasswordChangeForm(BaseForm):
    current = PasswordField("Mot de passe actuel", validators=[DataRequired(), Length(max=256)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField("Nouveau mot de passe (10 caractères au moins)",
                        validators=[DataRequired(), Length(min=10, max=256)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Confirmez le nouveau mot de passe",
                            validators=[DataRequired(), EqualTo("new", "Les deux mots de passe diffèrent.")],
                            render_kw={"autocomplete": "new-password"})


class ForgottenPasswordForm(BaseForm):
    login = StringField("Adresse e-mail ou numéro de mobile de votre compte",
                        validators=[DataRequired("Indiquez votre adresse e-mail ou votre numéro."), Length(max=254)],
                        render_kw={"autocomplete": "username"})


class NewPasswordForm(NewPasswordFields, BaseForm):
    """Choose a new password from a reset link."""
