"""Who may call the SAS endpoints: a system whose client certificate (verified by the TLS handshake) names a CN
and OU an administrator registered, as the guide's security page asks (mTLS, IGC-Santé, CN and OU checked).

The certificate comes from the TLS handshake itself (``SSL_CLIENT_CERT``, when the application server holds the
TLS connection) or, behind the reverse proxy that terminates TLS and verified the certificate against the
IGC-Santé authorities, from the proxy's headers: ``X-SSL-Client-Verify: SUCCESS`` and the certificate in
``X-SSL-Client-Cert`` (nginx's ``$ssl_client_escaped_cert``), believed only with ``TRUSTED_PROXIES`` set.
"""

from urllib.parse import unquote

from cryptography import x509
from cryptography.x509.oid import NameOID
from flask import current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.sas.models import SasConsumer


class NotAdmitted(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _certificate_pem() -> str | None:
    pem = request.environ.get("SSL_CLIENT_CERT")
    if pem:
        return pem
    if current_app.config.get("TRUSTED_PROXIES") and request.headers.get("X-SSL-Client-Verify") == "SUCCESS":
        escaped = request.headers.get("X-SSL-Client-Cert")
        return unquote(escaped) if escaped else None
    return None


def _subject(pem: str) -> tuple[str, str]:
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise NotAdmitted("Certificat client illisible.") from None
    names = certificate.subject

    def one(oid) -> str:
        values = names.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return one(NameOID.COMMON_NAME), one(NameOID.ORGANIZATIONAL_UNIT_NAME)


def admitted_consumer(session: Session) -> SasConsumer:
    """The registered SAS system calling, or NotAdmitted (answered 403)."""
    pem = _certificate_pem()
    if not pem:
        raise NotAdmitted("Accès réservé au SAS : présentez un certificat client IGC-Santé (TLS mutuel).")
    common_name, unit = _subject(pem)
    consumer = session.scalar(select(SasConsumer).where(
        SasConsumer.common_name == common_name, SasConsumer.organizational_unit == unit, SasConsumer.active))
    if consumer is None:
        raise NotAdmitted(f"Ce certificat (CN={common_name}, OU={unit}) n’est pas autorisé sur ce service.")
    return consumer
