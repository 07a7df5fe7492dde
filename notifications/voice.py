"""Voice calls: the log (development) and Twilio's Calls API, with the spoken message as TwiML.

The body of a ``voice`` notification is the French text to read. The call reads it inside a
``<Gather>`` that sends the key pressed to our signed webhook (``/notifications/twilio/voice/keypress``),
where the application decides what 1, 2 or 3 do.
"""

import logging
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from notifications.sms import TRANSIENT_STATUSES, SendResult, mask, twilio_client, twilio_result

log = logging.getLogger(__name__)
VOICE = "Polly.Lea"  # a French neural voice; Twilio falls back to its default fr-FR voice elsewhere
GATHER_SECONDS = 8


def say(text: str) -> str:
    return f'<Say language="fr-FR" voice="{VOICE}">{escape(text)}</Say>'


def call_twiml(text: str, keypress_url: str) -> str:
    """Read the message, then wait for a key (said twice, once again if nothing is pressed)."""
    gather = (f"<Gather numDigits=\"1\" timeout=\"{GATHER_SECONDS}\" action={quoteattr(keypress_url)} "
              f"method=\"POST\">{say(text)}</Gather>")
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{gather}{gather}{say("Au revoir.")}</Response>'


class LogVoiceBackend:
    """Write the call to the log instead of making it."""

    name = "log"

    def call(self, recipient: str, twiml: str, status_callback: str | None) -> SendResult:
        log.info("Appel (journal) vers %s", mask(recipient))
        return SendResult(provider_id=None)

    def find_placed(self, recipient: str, since: datetime) -> str | None:
        return None


class TwilioVoiceBackend:
    """Place calls through Twilio's official client (the same account and credentials as SMS)."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, caller: str | None, api_base_url: str | None = None,
                 timeout: float = 10):
        if not account_sid or not auth_token or not caller:
            raise ValueError("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_VOICE_FROM (or TWILIO_FROM) are "
                             "required for calls")
        self.client = twilio_client(account_sid, auth_token, api_base_url, timeout)
        self.caller = caller

    def call(self, recipient: str, twiml: str, status_callback: str | None) -> SendResult:
        options = {"status_callback": status_callback, "status_callback_event": ["completed"]} \
            if status_callback else {}
        return twilio_result("un appel", recipient, lambda: self.client.calls.create(
            to=recipient, from_=self.caller, twiml=twiml, timeout=25, **options).sid,
            lambda status, code: status in TRANSIENT_STATUSES)

    def find_placed(self, recipient: str, since: datetime) -> str | None:
        """The id of a call already placed to this number since then, if any (crash recovery)."""
        for placed in self.client.calls.list(to=recipient, start_time_after=since, limit=20):
            return placed.sid
        return None
