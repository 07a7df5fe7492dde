"""Account use cases: create, authenticate, change password, audit."""

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from booking.auth.models import ROLES, AuditEvent, User, new_session_token
from booking.errors import Conflict, InvalidInput
from booking.geo.models import Commune, Departement, Epci
from booking.phones import parse_phone
from booking.text import row_id

MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 2  # zxcvbn's 0–4 scale: 2 resists an online attack throttled as ours is
PASSWORD_METHOD = "scrypt"
# Checked when the account does not exist, so that both answers take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)


def normalize_email(email: str | None) -> str | None:
    """Return the email trimmed and lower-cased, or None when empty."""
    email = (email or "").strip().lower()
    return email or None


def check_password_strength(password: str, personal: tuple[str, ...] = ()) -> None:
    """Refuse a password that is too short, too common or too predictable to resist guessing.

    zxcvbn (its lists of common passwords, names and words, and its patterns: repeats, sequences,
    keyboard rows, dates) estimates the guesses needed; ``personal`` adds the account's own name,
    email or phone to what it tries first.
    """
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.",
                           field="password")
    if len(password) > 256:
        raise InvalidInput("Le mot de passe est trop long (256 caractères au plus).", field="password")
    if zxcvbn(password[:100], user_inputs=[part for part in personal if part])["score"] < MIN_PASSWORD_SCORE:
        raise InvalidInput("Ce mot de passe est trop courant ou trop prévisible (répétition, suite, mot de passe "
                           "répandu, votre nom…). Choisissez plutôt une phrase de plusieurs mots.", field="password")


def create_user(
    session: Session,
    *,
    role: str,
    password: str,
    email: str | None = None,
    phone: str | None = None,
    display_name: str = "",
    commune_codes: list[str] | tuple[str, ...] = (),
    epci_siren: str | None = None,
    departement_code: str | None = None,
) -> User:
    """Create an account with a hashed password and the communes (EPCI, département) it acts for."""
    if role not in ROLES:
        raise InvalidInput(f"Rôle inconnu : {role}. Rôles possibles : {', '.join(ROLES)}.")
    email = normalize_email(email)
    phone_e164 = parse_phone(phone).e164 if phone else None
    if not email and not phone_e164:
        raise InvalidInput("Indiquez une adresse e-mail ou un numéro de téléphone mobile.")
    check_password_strength(password, personal=(*display_name.split(), email or "", phone or ""))
    if email and session.scalar(select(User.id).where(User.email == email)):
        raise Conflict("Un compte existe déjà avec cette adresse e-mail.")
    if phone_e164 and session.scalar(select(User.id).where(User.phone == phone_e164)):
        raise Conflict("Un compte existe déjà avec ce numéro de téléphone.")
    communes = []
    for code in commune_codes:
        commune = session.get(Commune, code.upper())
        if commune is None:
            raise InvalidInput(f"Commune inconnue : {code}.")
        communes.append(commune)
    if role in ("agent", "commune_admin") and not communes:
        raise InvalidInput("Un agent ou un référent doit être rattaché à au moins une commune.")
    if role == "epci_admin" and (not epci_siren or session.get(Epci, epci_siren) is None):
        raise InvalidInput("Un administrateur d’intercommunalité est rattaché à une intercommunalité (SIREN).")
    if role == "departement_viewer" and (not departement_code or session.get(Departement, departement_code) is None):
        raise InvalidInput("Un observateur est rattaché à un département (code, par exemple 15).")
    user = User(
        epci_siren=epci_siren if role == "epci_admin" else None,
        departement_code=departement_code if role == "departement_viewer" else None,
        role=role,
        email=email,
        phone=phone_e164,
        display_name=display_name.strip(),
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        communes=communes,
    )
    session.add(user)
    session.flush()
    return user


def normalized_login(login: str) -> str:
    """The account a typed identifier names: the email lower-cased, a phone number in E.164, else the text."""
    login = (login or "").strip()[:254]
    if "@" in login:
        return normalize_email(login) or ""
    try:
        return parse_phone(login).e164
    except InvalidInput:
        return login.lower()


def find_user_by_login(session: Session, login: str) -> User | None:
    """Find an account by email or by phone number."""
    key = normalized_login(login)
    if "@" in key:
        return session.scalar(select(User).where(User.email == key))
    if not key.startswith("+"):
        return None  # neither an email nor a phone number
    return session.scalar(select(User).where(User.phone == key))


def authenticate(session: Session, login: str, password: str, now: datetime) -> User | None:
    """Return the active user with these credentials, or None (same answer whatever was wrong)."""
    user = find_user_by_login(session, login)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = now
    session.flush()
    return user


def end_sessions(session: Session, user: User) -> None:
    """Invalidate every session of the user (logout, password change)."""
    user.session_token = new_session_token()
    session.flush()


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; other sessions end."""
    if not check_password_hash(user.password_hash, current or ""):
        raise InvalidInput("Le mot de passe actuel est incorrect.")
    set_password(user, new)
    session.flush()


def set_password(user: User, new: str) -> None:
    """Give an account a new password, checked as at sign-up; every other session of it ends."""
    check_password_strength(new, personal=(*(user.display_name or "").split(), user.email or "", user.phone or ""))
    user.password_hash = generate_password_hash(new, method=PASSWORD_METHOD)
    user.session_token = new_session_token()


def load_user_from_session(session: Session, session_id: str) -> User | None:
    """Return the user named by a session's "id:token", if the token is still current."""
    user_id, _, token = (session_id or "").partition(":")
    number = row_id(user_id)
    if number is None or not token:
        return None
    user = session.get(User, number)
    if user is None or user.session_token != token or not user.active:
        return None
    return user


def record_audit(
    session: Session,
    *,
    user: User | None,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    patient_id: int | None = None,
    details: dict | None = None,
    now: datetime,
) -> None:
    """Write an audit event in the current transaction (the caller commits).

    One INSERT, not an object for the unit of work to flush: every booking writes one, and the flush cost
    twice the statement.
    """
    session.execute(_AUDIT_INSERT, {
        "at": now, "user_id": user.id if user else None, "role": user.role if user else None, "action": action,
        "object_type": object_type, "object_id": None if object_id is None else str(object_id),
        "patient_id": patient_id, "details": details})


_AUDIT_INSERT = insert(AuditEvent.__table__)
