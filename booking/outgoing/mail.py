"""What the platform says by email: the practitioner's invitation and the commune's monthly report."""


def invitation_subject(site_name: str) -> str:
    return f"Invitation à consulter : {site_name}"


def invitation_body(site_name: str, commune_name: str, accept_url: str, valid_days: int) -> str:
    return (f"Bonjour,\n\n{site_name} ({commune_name}) vous invite à publier vos disponibilités "
            f"sur la plateforme de rendez-vous de la commune.\n\nPour accepter, ouvrez ce lien "
            f"(valable {valid_days} jours) :\n{accept_url}\n\n"
            f"Si vous ne connaissez pas ce lieu, ignorez ce message.")


def report_subject(month: str, commune_name: str) -> str:
    return f"Consultations de {month} — {commune_name}"


def report_body(month: str, commune_name: str, headline: list[tuple[str, str]]) -> str:
    return "\n".join([f"Consultations — {commune_name}, {month}", ""]
                     + [f"{label} : {value}" for label, value in headline]
                     + ["", "Le rapport complet (PDF) et les chiffres (CSV) sont joints."])


def reset_subject() -> str:
    return "Choisir un nouveau mot de passe"


def reset_body(link: str, valid_minutes: int) -> str:
    return (f"Bonjour,\n\nVous avez demandé à choisir un nouveau mot de passe pour Rendez-vous santé.\n\n"
            f"Ouvrez ce lien (valable {valid_minutes} minutes, une seule fois) :\n{link}\n\n"
            f"Si vous n’avez rien demandé, ignorez ce message : votre mot de passe ne change pas.")
