"""Forms of the patient pages."""

from wtforms import (
    BooleanField,
    EmailField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from booking.forms import BaseForm, CommuneField, FrenchDateField, optional_email


class PostalAddressFields:
    """Where letters reach the person: optional, as people give it."""

    street = StringField("Adresse : numéro et rue, ou lieu-dit", validators=[Optional(), Length(max=200)],
                         render_kw={"autocomplete": "address-line1"})
    street_complement = StringField("Complément d’adresse (bâtiment, chez…) — facultatif",
                                    validators=[Optional(), Length(max=200)],
                                    render_kw={"autocomplete": "address-line2"})
    postal_code = StringField("Code postal", validators=[Optional(), Length(max=10)],
                              render_kw={"inputmode": "numeric", "autocomplete": "postal-code"})


class PostalAddressForm(BaseForm, PostalAddressFields):
    pass


class PatientForm(BaseForm, PostalAddressFields):
    first_name = StringField("Prénom", validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Nom", validators=[DataRequired(), Length(max=100)])
    birth_date = FrenchDateField("Date de naissance", validators=[InputRequired("Indiquez la date de naissance.")])
    commune = CommuneField("Commune de résidence (nom ou code postal)", validators=[DataRequired(), Length(max=100)])
    phone = StringField("Téléphone (mobile, fixe, ou vide)", validators=[Optional(), Length(max=30)],
                        render_kw={"inputmode": "tel"})
    email = EmailField("E-mail (facultatif)", validators=optional_email())
    sms_consent = BooleanField("Accepte les rappels par SMS (mobile seulement)")
    relationship_label = StringField("Lien (enfant, père, mère…)", validators=[Optional(), Length(max=40)])
    calls_refused = BooleanField("Ne veut pas d’appel de rappel sur son fixe")
    caregiver_name = StringField("Aidant(e) : prénom et nom (facultatif)", validators=[Optional(), Length(max=100)])
    caregiver_phone = StringField("Mobile de l’aidant(e), qui recevra les rappels par SMS",
                                  validators=[Optional(), Length(max=30)], render_kw={"inputmode": "tel"})
    caregiver_consent = BooleanField("L’aidant(e) accepte de recevoir ces SMS")


class RemindersForm(BaseForm):
    calls_refused = BooleanField("Ne veut pas d’appel de rappel sur son fixe")
    caregiver_name = StringField("Aidant(e) : prénom et nom", validators=[Optional(), Length(max=100)])
    caregiver_phone = StringField("Mobile de l’aidant(e), qui recevra les rappels par SMS (vide : aucun)",
                                  validators=[Optional(), Length(max=30)], render_kw={"inputmode": "tel"})
    caregiver_consent = BooleanField("L’aidant(e) accepte de recevoir ces SMS")


class FindPatientForm(BaseForm):
    class Meta:
        csrf = False

    last_name = StringField("Nom ou numéro de téléphone",
                            validators=[DataRequired("Indiquez le nom ou le numéro de téléphone."), Length(max=100)])
    birth_date = FrenchDateField("Date de naissance", validators=[Optional()])


class RelativeForm(BaseForm):
    """A relative added by a resident to their account."""

    first_name = StringField("Prénom", validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Nom", validators=[DataRequired(), Length(max=100)])
    birth_date = FrenchDateField("Date de naissance", validators=[InputRequired("Indiquez la date de naissance.")])
    commune = CommuneField("Commune de résidence (nom ou code postal)", validators=[DataRequired(), Length(max=100)])
    relationship_label = StringField("Lien (enfant, père, mère…)", validators=[Optional(), Length(max=40)])
    phone = StringField("Son propre mobile (facultatif)", validators=[Optional(), Length(max=30)],
                        render_kw={"inputmode": "tel"})
    sms_consent = BooleanField("Envoyer ses rappels sur son mobile (la personne confirme en répondant OUI)",
                               default=True)


class EmailRemindersForm(BaseForm):
    email = EmailField("Adresse e-mail (vide : aucun e-mail)", validators=optional_email(),
                       render_kw={"autocomplete": "email"})
    also_by_email = BooleanField("Recevoir aussi les confirmations et les rappels par e-mail, en plus des SMS")
