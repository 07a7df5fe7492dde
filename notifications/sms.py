"""SMS backends: the log (development) and Twilio."""

import base64
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit
from urllib.request import getproxies

import certifi
import urllib3
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

log = logging.getLogger(__name__)

# Twilio error codes that no retry will fix.
PERMANENT_ERRORS = {"21211", "21610", "21614", "21635", "30005", "30006", "21408", "21612"}
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
# Provider calls in flight at once, per dispatcher: 80 in flight at 50 ms each is 1,600 a second, under the
# limit Twilio sets on an account's concurrent API requests (beyond it, 429 Too Many Requests).
PROVIDER_CONNECTIONS = 80


@dataclass
class SendResult:
    provider_id: str | None = None
    transient: bool = False       # retry later
    error_code: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def mask(number: str) -> str:
    """Hide all but the last two digits of a phone number, for logs."""
    return number[:3] + "•" * max(0, len(number) - 5) + number[-2:] if number else ""


_LINK = re.compile(r"(https?://[^/\s]+/[^/\s]*/?)[^\s]+")
_CODE = re.compile(r"\d{4,}")


def redact(body: str) -> str:
    """Hide what a log must not hold of a message: the secret part of links, and codes of four digits or more."""
    return _CODE.sub(lambda m: "•" * len(m.group()), _LINK.sub(r"\1…", body or ""))


class LogSmsBackend:
    """Write the message to the log instead of sending it (the default, for development).

    Links and codes are hidden unless ``full`` (a developer's own machine, ``SMS_LOG_FULL=1``).
    """

    name = "log"

    def __init__(self, full: bool = False):
        self.full = full

    def send(self, recipient: str, body: str, status_callback: str | None) -> SendResult:
        log.info("SMS (journal) vers %s : %s", mask(recipient), body if self.full else redact(body))
        return SendResult(provider_id=None)

    def find_sent(self, recipient: str, body: str, since: datetime) -> str | None:
        # Nothing left the machine: resending a log line is harmless.
        return None


class PooledHttpClient(HttpClient):
    """The official client's transport, on urllib3 directly, with up to ``PROVIDER_CONNECTIONS`` kept open.

    The dispatcher sends that many messages at once. requests (the client's default transport) keeps ten
    connections and spends more CPU on each call than the call's own work: at 1,000 SMS a second the transport
    is the limit. ``base_url`` sends the requests to a Twilio-compatible server (tests, sandboxes).
    """

    def __init__(self, timeout: float, base_url: str | None = None):
        super().__init__(logging.getLogger("twilio.http_client"), False, timeout)
        self._base = urlsplit(base_url) if base_url else None
        proxy = getproxies().get("https")  # read once, not for every message
        options = {"num_pools": 4, "maxsize": PROVIDER_CONNECTIONS, "retries": False, "ca_certs": certifi.where()}
        self.pool = urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False) -> Response:
        if self._base:
            parts = urlsplit(url)
            url = urlunsplit((self._base.scheme, self._base.netloc, self._base.path.rstrip("/") + parts.path,
                              parts.query, parts.fragment))
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        body = None
        if data:
            body = urlencode(data, doseq=True)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        answer = self.pool.request(method.upper(), url, body=body, headers=headers, redirect=allow_redirects,
                                   timeout=timeout or self.timeout)
        return Response(answer.status, answer.data.decode("utf-8"), answer.headers)


def twilio_client(account_sid: str, auth_token: str, api_base_url: str | None, timeout: float) -> Client:
    """The official client, talking to Twilio or to the Twilio-compatible server ``api_base_url`` names."""
    return Client(account_sid, auth_token, http_client=PooledHttpClient(timeout, api_base_url))


def twilio_result(what: str, recipient: str, create, transient_refusal) -> SendResult:
    """Call Twilio (``create`` returns the new sid) and say how it went: a refusal is transient when
    ``transient_refusal(http_status, error_code)`` says so, an unreachable Twilio always is."""
    try:
        sid = create()
    except TwilioRestException as error:
        code = str(error.code) if error.code else None
        log.warning("Twilio a refusé %s vers %s : HTTP %s, code %s", what, mask(recipient), error.status, code)
        return SendResult(transient=transient_refusal(error.status, code), error_code=code,
                          error=f"HTTP {error.status} ({code})")
    except (TwilioException, OSError) as error:
        log.warning("Twilio injoignable pour %s vers %s : %s", what, mask(recipient), type(error).__name__)
        return SendResult(transient=True, error=type(error).__name__)
    except Exception as error:  # the transport's own errors (urllib3: timeouts, refused connections)
        if type(error).__module__.startswith("urllib3"):
            log.warning("Twilio injoignable pour %s vers %s : %s", what, mask(recipient), type(error).__name__)
            return SendResult(transient=True, error=type(error).__name__)
        raise
    return SendResult(provider_id=sid)


class TwilioSmsBackend:
    """Send through Twilio's official client."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, messaging_service_sid: str | None = None,
                 sender: str | None = None, api_base_url: str | None = None, timeout: float = 10):
        if not account_sid or not auth_token or not (messaging_service_sid or sender):
            raise ValueError("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender (TWILIO_MESSAGING_SERVICE_SID "
                             "or TWILIO_FROM) are required for SMS_BACKEND=twilio")
        self.client = twilio_client(account_sid, auth_token, api_base_url, timeout)
        self.messaging_service_sid = messaging_service_sid
        self.sender = sender

    def send(self, recipient: str, body: str, status_callback: str | None) -> SendResult:
        sender = ({"messaging_service_sid": self.messaging_service_sid} if self.messaging_service_sid
                  else {"from_": self.sender})
        return twilio_result("un SMS", recipient, lambda: self.client.messages.create(
            to=recipient, body=body, status_callback=status_callback, **sender).sid,
            lambda status, code: status in TRANSIENT_STATUSES or (code not in PERMANENT_ERRORS and status >= 500))

    def find_sent(self, recipient: str, body: str, since: datetime) -> str | None:
        """Return the id of a message Twilio already accepted with this recipient and body, if any."""
        for message in self.client.messages.list(to=recipient, date_sent_after=since, limit=50):
            if message.body == body:
                return message.sid
        return None
