"""Configuration read from the environment, with safe defaults."""

import os
import secrets
from pathlib import Path


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_secret_key(instance_path: str) -> str:
    """Return SECRET_KEY from the environment, or one generated once and kept in the instance folder."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # Written with owner-only permissions: the key signs sessions and links.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping from environment variables."""
    default_db = "sqlite:///" + str(Path(instance_path) / "booking.sqlite")
    # Unset, the links in SMS, e-mails and the embed snippet point at the port the local server listens on.
    public_base_url = (os.environ.get("PUBLIC_BASE_URL")
                       or f"http://127.0.0.1:{os.environ.get('PORT') or 5000}").rstrip("/")
    return {
        "SECRET_KEY": load_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(os.environ.get("DATABASE_URL", default_db)),
        "PUBLIC_BASE_URL": public_base_url,
        "SESSION_COOKIE_SECURE": public_base_url.startswith("https://"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        # WTForms' own French messages (BaseForm.Meta.locales) rather than Flask-Babel's.
        "WTF_I18N_ENABLED": False,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 1024 * 1024)),
        "STAFF_IDLE_MINUTES": int(os.environ.get("STAFF_IDLE_MINUTES", 30)),
        # The monthly reports are built by this many processes (the scheduler forks them on the 1st).
        "REPORT_PROCESSES": int(os.environ.get("REPORT_PROCESSES", 2)),
        # Due messages are sent by this many processes when there are hundreds (PostgreSQL only).
        "DISPATCH_PROCESSES": int(os.environ.get("DISPATCH_PROCESSES", 2)),
        # Who runs this platform, as the footer, the mentions légales and the privacy page name them.
        "SERVICE_OPERATOR": os.environ.get("SERVICE_OPERATOR", "Communes du Pays de Salers (démonstration)"),
        "LEGAL_PUBLISHER_ADDRESS": os.environ.get("LEGAL_PUBLISHER_ADDRESS",
                                                  "Mairie, 15140 Saint-Bonnet-de-Salers (adresse de démonstration)"),
        "LEGAL_PUBLISHER_PHONE": os.environ.get("LEGAL_PUBLISHER_PHONE", "04 71 00 00 00 (démonstration)"),
        "LEGAL_DIRECTOR": os.environ.get("LEGAL_DIRECTOR", "le maire (démonstration)"),
        # The host, as the LCEN (art. 6 III) asks it to be named: name, address, phone.
        "LEGAL_HOST": os.environ.get("LEGAL_HOST", "hébergement local de démonstration, non hébergeur de données de "
                                                   "santé"),
        "LEGAL_HOST_ADDRESS": os.environ.get("LEGAL_HOST_ADDRESS", "adresse de l’hébergeur (démonstration)"),
        "LEGAL_HOST_PHONE": os.environ.get("LEGAL_HOST_PHONE", "téléphone de l’hébergeur (démonstration)"),
        "CONTACT_EMAIL": os.environ.get("CONTACT_EMAIL", "contact@demo.test"),
        "DPO_EMAIL": os.environ.get("DPO_EMAIL", "dpo@demo.test"),
        # Set once an RGAA audit has been made: the share of criteria met (0–100) and the audit's date.
        "ACCESSIBILITY_AUDIT_RATE": os.environ.get("ACCESSIBILITY_AUDIT_RATE"),
        "ACCESSIBILITY_AUDIT_DATE": os.environ.get("ACCESSIBILITY_AUDIT_DATE"),
        # When the déclaration d'accessibilité was made or last brought up to date (the law asks for the date).
        "ACCESSIBILITY_STATEMENT_DATE": os.environ.get("ACCESSIBILITY_STATEMENT_DATE", "5 décembre 2026"),
        # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto are believed, so that
        # rate limits count each client, not the proxy; 0 believes no such header.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", 0)),
        # Notifications (used by the notifications package).
        "SMS_BACKEND": os.environ.get("SMS_BACKEND", "log"),
        # The log backend hides links and codes; a developer's own demo may show them (scripts/run does).
        "SMS_LOG_FULL": _env_bool("SMS_LOG_FULL", False),
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN"),
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID"),
        "TWILIO_FROM": os.environ.get("TWILIO_FROM"),
        # The number reminder calls come from (a French landline-looking number); TWILIO_FROM by default.
        "TWILIO_VOICE_FROM": os.environ.get("TWILIO_VOICE_FROM"),
        "TWILIO_API_BASE_URL": os.environ.get("TWILIO_API_BASE_URL"),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "log" if not os.environ.get("MAIL_SERVER") else "smtp"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", 25)),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "Rendez-vous santé <no-reply@localhost>"),
        # Travel times are estimates (booking/geo/travel.py): the distance as the crow flies × a road factor, at an
        # average speed; 1.3 and 60 km/h suit rural roads (mountain départements may want 1.4 and 50).
        "TRAVEL_ROAD_FACTOR": float(os.environ.get("TRAVEL_ROAD_FACTOR", 1.3)),
        "TRAVEL_SPEED_KMH": float(os.environ.get("TRAVEL_SPEED_KMH", 60)),
        # The SAS platform, told of the changes of the appointments its regulators made (the guide's conditional
        # update, PUT [base]/Appointment?identifier=…): its FHIR base, and how we reach it (mutual TLS).
        "SAS_PLATFORM_URL": os.environ.get("SAS_PLATFORM_URL"),
        "PARTNER_BACKEND": os.environ.get("PARTNER_BACKEND", "https" if os.environ.get("SAS_PLATFORM_URL") else "log"),
        "PARTNER_CLIENT_CERT": os.environ.get("PARTNER_CLIENT_CERT"),
        "PARTNER_CLIENT_KEY": os.environ.get("PARTNER_CLIENT_KEY"),
        "PARTNER_CA_FILE": os.environ.get("PARTNER_CA_FILE"),
        # Rate limits: in memory unless a shared store is configured.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Lets several platforms (or test runs) share one Redis without mixing their counters.
        # A moving window: "20 a minute" means any 60 seconds, not the calendar minute.
        "RATELIMIT_STRATEGY": os.environ.get("RATELIMIT_STRATEGY", "moving-window"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "rdv-sante"),
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        # Redis down: each process counts in its own memory (logged once) rather than refusing to serve;
        # the limits stay per process until Redis answers again, which Flask-Limiter checks by itself.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # The scheduler lease: another scheduler takes over this long after the holder dies.
        "SCHEDULER_LEASE_SECONDS": int(os.environ.get("SCHEDULER_LEASE_SECONDS", 90)),
        "SCHEDULER_DISPATCH_SECONDS": int(os.environ.get("SCHEDULER_DISPATCH_SECONDS", 60)),
        # Per token (or per IP without one): enough for an integration, not for scraping the slots.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "300 per minute"),
    }


def normalize_database_url(url: str) -> str:
    """Map the common postgres:// spellings to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
