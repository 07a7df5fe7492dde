"""Messages to partner systems: a JSON document PUT to an HTTPS address, the way FHIR's conditional update is
made (the SAS platform hears of its appointments' changes this way).

The recipient of a ``fhir`` notification is the full address to PUT to; its body the JSON document. A PUT of a
whole resource is idempotent, so a message left in ``sending`` by a dispatcher that died is simply sent again.
"""

import logging

import requests

from notifications.sms import SendResult

log = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json"
TIMEOUT_SECONDS = 15
# Answers that may succeed later; any other 4xx says the document or the address is wrong: retrying won't help.
_TRANSIENT_STATUSES = {408, 425, 429}


class LogPartnerBackend:
    """Write the request to the log instead of making it (no partner configured)."""

    name = "log"

    def put(self, url: str, document: str) -> SendResult:
        log.info("Envoi à un partenaire (journal) : PUT %s (%d octets)", url.split("?")[0], len(document))
        return SendResult(provider_id=None)


class HttpsPartnerBackend:
    """PUT over HTTPS with a client certificate (mutual TLS, as the SAS's security rules ask)."""

    name = "https"

    def __init__(self, client_certificate: str | None, client_key: str | None, authorities: str | None):
        # Given with each request (a Session's own ``verify`` loses to REQUESTS_CA_BUNDLE in the environment); a
        # connection each (a few requests a day, and no pooled socket left open when the dispatcher ends).
        self.certificate = ((client_certificate, client_key) if client_key else client_certificate) or None
        self.authorities = authorities or True

    def put(self, url: str, document: str) -> SendResult:
        try:
            answer = requests.put(url, data=document.encode(), timeout=TIMEOUT_SECONDS, cert=self.certificate,
                                  verify=self.authorities, headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON})
        except requests.RequestException as error:
            return SendResult(transient=True, error_code="network", error=f"Partenaire injoignable : {error}"[:500])
        if answer.ok:
            return SendResult(provider_id=answer.headers.get("Location", "")[-64:] or None)
        transient = answer.status_code >= 500 or answer.status_code in _TRANSIENT_STATUSES
        return SendResult(transient=transient, error_code=str(answer.status_code),
                          error=f"Refusé par le partenaire ({answer.status_code}) : {answer.text}"[:500])
