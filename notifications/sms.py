"""SMS backends: the log (development) and Twilio."""

import base64
import logging
import ssl
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlencode, urlsplit, urlunsplit
from urllib.request import getproxies

import certifi
import urllib3
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient, HttpClient
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


class LogSmsBackend:
    """Write the message to the log instead of sending it (the default, for development).

    The text itself (a date, a place, a reference, a secret link: all personal) is left out unless ``full``
    (a developer's own machine, ``SMS_LOG_FULL=1``).
    """

    name = "log"

    def __init__(self, full: bool = False):
        self.full = full

    def send(self, recipient: str, body: str, status_callback: str | None) -> SendResult:
        if self.full:
            log.info("SMS (journal) vers %s : %s", mask(recipient), body)
        else:
            log.info("SMS (journal) vers %s : %d caractères (texte masqué ; SMS_LOG_FULL=1 l’affiche)",
                     mask(recipient), len(body or ""))
        return SendResult(provider_id=None)

    def find_sent(self, recipient: str, body: str, since: datetime) -> str | None:
        # Nothing left the machine: resending a log line is harmless.
        return None


def _addressed(base, url: str, headers: dict | None, auth: tuple | None) -> tuple[str, dict]:
    """The request's URL on ``base`` (a Twilio-compatible server) when there is one, and its headers with the
    account's credentials."""
    if base:
        parts = urlsplit(url)
        url = urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, parts.fragment))
    headers = dict(headers or {})
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    return url, headers


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

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False) -> Response:
        url, headers = _addressed(self._base, uri, headers, auth)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        body = None
        if data:
            body = urlencode(data, doseq=True)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        answer = self.pool.request(method.upper(), url, body=body, headers=headers, redirect=allow_redirects,
                                   timeout=timeout or self.timeout)
        return Response(answer.status, answer.data.decode("utf-8"), answer.headers)


class AsyncPooledHttpClient(AsyncHttpClient):
    """The official client's asynchronous transport, on one aiohttp session with up to ``connections`` open.

    A dispatcher's 80 sending threads took turns on one GIL, each call through urllib3 and ``http.client``:
    1.1 ms of CPU a message. On one event loop, with aiohttp's parser, 0.6 ms. Made and closed inside the event
    loop that uses it (``open``, ``close``); ``base_url`` as for ``PooledHttpClient``.
    """

    def __init__(self, timeout: float, base_url: str | None = None, connections: int = PROVIDER_CONNECTIONS):
        super().__init__(logging.getLogger("twilio.http_client"), True, timeout)
        self._base = urlsplit(base_url) if base_url else None
        self.connections = connections
        self.session = None  # an aiohttp.ClientSession, made by ``open``
        self.proxy: str | None = None

    async def open(self) -> None:
        import aiohttp  # here: a web worker, which never sends from an event loop, need not load it (7 MiB)

        connector = aiohttp.TCPConnector(limit=self.connections, limit_per_host=self.connections,
                                         ssl=_provider_tls())
        # The proxy read once, as by the synchronous transport (trust_env would scan the environment every call).
        self.proxy = getproxies().get("https")
        self.session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                      allow_redirects=False) -> Response:
        url, headers = _addressed(self._base, uri, headers, auth)
        async with self.session.request(method.upper(), url, params=params, data=data, headers=headers,
                                        allow_redirects=allow_redirects, proxy=self.proxy) as answer:
            return Response(answer.status, await answer.text(), answer.headers)


@cache
def _provider_tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def twilio_client(account_sid: str, auth_token: str, api_base_url: str | None, timeout: float) -> Client:
    """The official client, talking to Twilio or to the Twilio-compatible server ``api_base_url`` names."""
    return Client(account_sid, auth_token, http_client=PooledHttpClient(timeout, api_base_url))


def twilio_result(what: str, recipient: str, create, transient_refusal) -> SendResult:
    """Call Twilio (``create`` returns the new sid) and say how it went: a refusal is transient when
    ``transient_refusal(http_status, error_code)`` says so, an unreachable Twilio always is."""
    try:
        sid = create()
    except TwilioRestException as error:
        return _refused(what, recipient, error, transient_refusal)
    except (TwilioException, OSError) as error:
        return _unreachable(what, recipient, error)
    except Exception as error:  # the transport's own errors (urllib3: timeouts, refused connections)
        if type(error).__module__.startswith("urllib3"):
            return _unreachable(what, recipient, error)
        raise
    return SendResult(provider_id=sid)


async def twilio_result_async(what: str, recipient: str, create, transient_refusal) -> SendResult:
    """``twilio_result`` for an awaitable ``create``: the same answers to the same refusals."""
    import aiohttp

    try:
        sid = await create()
    except TwilioRestException as error:
        return _refused(what, recipient, error, transient_refusal)
    except (TimeoutError, TwilioException, OSError, aiohttp.ClientError) as error:
        return _unreachable(what, recipient, error)
    return SendResult(provider_id=sid)


def _refused(what: str, recipient: str, error: TwilioRestException, transient_refusal) -> SendResult:
    code = str(error.code) if error.code else None
    log.warning("Twilio a refusé %s vers %s : HTTP %s, code %s", what, mask(recipient), error.status, code)
    return SendResult(transient=transient_refusal(error.status, code), error_code=code,
                      error=f"HTTP {error.status} ({code})")


def _unreachable(what: str, recipient: str, error: Exception) -> SendResult:
    log.warning("Twilio injoignable pour %s vers %s : %s", what, mask(recipient), type(error).__name__)
    return SendResult(transient=True, error=type(error).__name__)


def _transient_sms_refusal(status: int, code: str | None) -> bool:
    return status in TRANSIENT_STATUSES or (code not in PERMANENT_ERRORS and status >= 500)


class AsyncTwilioSender:
    """Sends SMS from one event loop: ``async with backend.async_sender(n) as sender: await sender.send(…)``."""

    def __init__(self, backend: "TwilioSmsBackend", connections: int):
        self.backend = backend
        self.http = AsyncPooledHttpClient(backend.timeout, backend.api_base_url, connections)
        self.client = Client(backend.account_sid, backend.auth_token, http_client=self.http)

    async def __aenter__(self) -> "AsyncTwilioSender":
        await self.http.open()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.http.close()

    async def send(self, recipient: str, body: str, status_callback: str | None) -> SendResult:
        return await twilio_result_async("un SMS", recipient, lambda: self._create(recipient, body, status_callback),
                                         _transient_sms_refusal)

    async def _create(self, recipient: str, body: str, status_callback: str | None) -> str:
        message = await self.client.messages.create_async(to=recipient, body=body, status_callback=status_callback,
                                                          **self.backend.sender_fields())
        return message.sid


class TwilioSmsBackend:
    """Send through Twilio's official client."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, messaging_service_sid: str | None = None,
                 sender: str | None = None, api_base_url: str | None = None, timeout: float = 10):
        if not account_sid or not auth_token or not (messaging_service_sid or sender):
            raise ValueError("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender (TWILIO_MESSAGING_SERVICE_SID "
                             "or TWILIO_FROM) are required for SMS_BACKEND=twilio")
        self.client = twilio_client(account_sid, auth_token, api_base_url, timeout)
        self.account_sid, self.auth_token, self.api_base_url, self.timeout = (account_sid, auth_token, api_base_url,
                                                                               timeout)
        self.messaging_service_sid = messaging_service_sid
        self.sender = sender

    def sender_fields(self) -> dict:
        return ({"messaging_service_sid": self.messaging_service_sid} if self.messaging_service_sid
                else {"from_": self.sender})

    def send(self, recipient: str, body: str, status_callback: str | None) -> SendResult:
        return twilio_result("un SMS", recipient, lambda: self.client.messages.create(
            to=recipient, body=body, status_callback=status_callback, **self.sender_fields()).sid,
            _transient_sms_refusal)

    def preload(self) -> None:
        """Load now what sending from an event loop will use (aiohttp, the CA bundle, the official client's message
        resources, which it imports at first use), in a long-lived process whose forked senders then inherit it:
        each would otherwise spend 0.25 s on it before its first SMS, every minute busy enough to fork."""
        import aiohttp  # noqa: F401

        _provider_tls()
        self.client.messages  # noqa: B018

    def async_sender(self, connections: int = PROVIDER_CONNECTIONS) -> AsyncTwilioSender:
        """Many SMS at once from one event loop (the dispatcher's batches)."""
        return AsyncTwilioSender(self, connections)

    def find_sent(self, recipient: str, body: str, since: datetime) -> str | None:
        """Return the id of a message Twilio already accepted with this recipient and body, if any."""
        for message in self.client.messages.list(to=recipient, date_sent_after=since, limit=50):
            if message.body == body:
                return message.sid
        return None
