"""Our professions in the ANS nomenclatures (NOS) that the SAS and other French health systems read: the
profession (TRE-G15 ProfessionSante) and, for physicians, the ordinal specialty (TRE-R38 SpecialiteOrdinale).

A profession the administrator adds later has no code here: it is published with its French text only, which the
FHIR CodeableConcept allows and the SAS guide accepts (« ou sous la forme d'un texte libre »).
"""

from dataclasses import dataclass

PROFESSION_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
SPECIALTY_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"


@dataclass(frozen=True)
class Coded:
    profession: str  # TRE-G15 code
    profession_label: str
    specialty: str | None = None  # TRE-R38 code
    specialty_label: str | None = None


_PHYSICIAN = ("10", "Médecin")
NOMENCLATURE: dict[str, Coded] = {
    "medecin_generaliste": Coded(*_PHYSICIAN, "SM54", "Médecine générale"),
    "ophtalmologue": Coded(*_PHYSICIAN, "SM38", "Ophtalmologie"),
    "dermatologue": Coded(*_PHYSICIAN, "SM15", "Dermatologie et vénéréologie"),
    "cardiologue": Coded(*_PHYSICIAN, "SM04", "Cardiologie et maladies vasculaires"),
    "psychiatre": Coded(*_PHYSICIAN, "SM42", "Psychiatrie"),
    "pediatre": Coded(*_PHYSICIAN, "SM40", "Pédiatrie"),
    "gynecologue": Coded(*_PHYSICIAN, "SM19", "Gynécologie médicale"),
    "endocrinologue": Coded(*_PHYSICIAN, "SM16", "Endocrinologie et métabolisme"),
    "pneumologue": Coded(*_PHYSICIAN, "SM41", "Pneumologie"),
    "rhumatologue": Coded(*_PHYSICIAN, "SM48", "Rhumatologie"),
    "geriatre": Coded(*_PHYSICIAN, "SM18", "Gériatrie"),
    "orl": Coded(*_PHYSICIAN, "SM34", "Oto-rhino-laryngologie et chirurgie cervico-faciale"),
    "allergologue": Coded(*_PHYSICIAN),
    "chirurgien_dentiste": Coded("40", "Chirurgien-Dentiste"),
    "sage_femme": Coded("50", "Sage-Femme"),
    "infirmier": Coded("60", "Infirmier"),
    "infirmier_pratique_avancee": Coded("60", "Infirmier"),
    "kinesitherapeute": Coded("70", "Masseur-Kinésithérapeute"),
    "orthophoniste": Coded("91", "Orthophoniste"),
    "orthoptiste": Coded("92", "Orthoptiste"),
    "psychologue": Coded("93", "Psychologue"),
    "dieteticien": Coded("95", "Diététicien"),
}


def codings(profession: str) -> list[dict]:
    """The FHIR codings of a profession in the ANS nomenclatures (none for one they do not name)."""
    coded = NOMENCLATURE.get(profession)
    if coded is None:
        return []
    found = [{"system": PROFESSION_SYSTEM, "code": coded.profession, "display": coded.profession_label}]
    if coded.specialty:
        found.append({"system": SPECIALTY_SYSTEM, "code": coded.specialty, "display": coded.specialty_label})
    return found
