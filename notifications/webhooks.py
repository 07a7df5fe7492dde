"""Twilio webhooks: delivery status and inbound SMS (STOP, and what the application answers)."""

import re
import unicodedata
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import exists, select, update
from twilio.request_validator import RequestValidator

from notifications.models import InboundMessage, Notification, SmsOptOut
from notifications.sms import PERMANENT_ERRORS

blueprint = Blueprint("notifications", __name__, url_prefix="/notifications")

STATUS_RANK = {"sending": 0, "sent": 1, "undelivered": 2, "failed": 2, "delivered": 3}
TWILIO_STATUSES = {"queued": "sent", "accepted": "sent", "sending": "sent", "sent": "sent",
                   "delivered": "delivered", "undelivered": "undelivered", "failed": "failed"}
STOP_WORDS = {"STOP", "ARRET", "STOPALL", "UNSUBSCRIBE", "DESABONNER"}


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_KEYS = "0123456789*#"
_LARGEST_ID = 2**31 - 1  # the outbox's ids are 32-bit integers on PostgreSQL


def _settings():
    return current_app.extensions["notifications"]


def _validate_signature() -> None:
    settings = _settings()
    token = settings.twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    url = settings.public_base_url + request.full_path.rstrip("?")
    if not token or not RequestValidator(token).validate(url, request.form.to_dict(), signature):
        abort(403)
    # Twilio never sends a control character; one would reach the database driver (PostgreSQL refuses NUL).
    if any(_CONTROL.search(value) for value in [*request.form.values(), *request.args.values()]):
        abort(400)


def _keyword(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = text.strip().upper().split()
    return words[0] if words else ""


def _twiml(reply: str | None) -> Response:
    body = "<Response>" + (f"<Message>{escape(reply)}</Message>" if reply else "") + "</Response>"
    return Response('<?xml version="1.0" encoding="UTF-8"?>' + body, mimetype="text/xml")


@blueprint.route("/twilio/status", methods=["POST"])
def twilio_status():
    """Record what Twilio says of a message; repeated or late callbacks change nothing."""
    _validate_signature()
    settings = _settings()
    session = settings.session()
    sid = request.form.get("MessageSid", "")
    status = TWILIO_STATUSES.get(request.form.get("MessageStatus", ""))
    message = session.scalar(select(Notification).where(Notification.provider_id == sid)) if sid else None
    if message is None or status is None:
        return Response(status=204)
    if STATUS_RANK.get(status, 0) >= STATUS_RANK.get(message.status, 0) and message.status != status:
        with settings.transaction(session):
            message.status = status
            message.error_code = request.form.get("ErrorCode") or message.error_code
            message.updated_at = datetime.now(UTC)
            if (status in ("undelivered", "failed") and message.error_code in PERMANENT_ERRORS
                    and settings.hooks.on_permanent_failure):
                settings.hooks.on_permanent_failure(session, message)
    return Response(status=204)


@blueprint.route("/twilio/inbound", methods=["POST"])
def twilio_inbound():
    """Answer an SMS sent to our number: STOP opts out; the application answers the rest."""
    _validate_signature()
    settings = _settings()
    session = settings.session()
    sid = request.form.get("MessageSid", "")
    sender = request.form.get("From", "")
    if not sid or not sender:
        abort(400)
    known = session.get(InboundMessage, sid)
    if known is not None:
        return _twiml(known.reply)  # Twilio retried: same answer, nothing done twice
    now = datetime.now(UTC)
    keyword = _keyword(request.form.get("Body", ""))
    # One transaction: the answer's effect (a cancellation…) and the record that makes a retry do nothing.
    with settings.transaction(session):
        if keyword in STOP_WORDS:
            if not session.scalar(select(exists().where(SmsOptOut.phone == sender))):
                session.add(SmsOptOut(phone=sender, at=now))
            session.execute(update(Notification).where(Notification.recipient == sender,
                                                       Notification.channel == "sms", Notification.status == "pending")
                            .values(status="cancelled", last_error="STOP reçu", updated_at=now))
            reply = settings.on_inbound(session, sender, "STOP", now) if settings.on_inbound else None
        else:
            reply = settings.on_inbound(session, sender, keyword, now) if settings.on_inbound else None
        session.add(InboundMessage(provider_id=sid, keyword=keyword[:20], reply=reply, at=now))
    return _twiml(reply)


# What Twilio says of a finished call → (our status, the call's outcome).
CALL_ENDINGS = {"completed": ("delivered", "answered"), "busy": ("undelivered", "busy"),
                "no-answer": ("undelivered", "no_answer"), "failed": ("failed", "failed"),
                "canceled": ("failed", "failed")}


def _voice_twiml(body: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response>' + body + "</Response>", mimetype="text/xml")


@blueprint.route("/twilio/voice/status", methods=["POST"])
def twilio_voice_status():
    """Record how a call ended (once: a repeated callback changes nothing) and let the application react."""
    _validate_signature()
    settings = _settings()
    session = settings.session()
    sid = request.form.get("CallSid", "")
    ending = CALL_ENDINGS.get(request.form.get("CallStatus", ""))
    call = session.scalar(select(Notification).where(Notification.provider_id == sid,
                                                     Notification.channel == "voice")) if sid else None
    if call is None or ending is None or call.status in ("delivered", "undelivered", "failed"):
        return Response(status=204)
    now = datetime.now(UTC)
    with settings.transaction(session):
        call.status, call.updated_at = ending[0], now
        call.outcome = call.outcome or ending[1]  # a key pressed (confirmed, cancelled) says more than "answered"
        if settings.hooks.on_call_outcome:
            settings.hooks.on_call_outcome(session, call, now)
    return Response(status=204)


@blueprint.route("/twilio/voice/keypress", methods=["POST"])
def twilio_voice_keypress():
    """A key pressed during a reminder call: 3 reads it again; the application decides what 1 and 2 do."""
    from notifications.voice import call_twiml, say

    _validate_signature()
    settings = _settings()
    session = settings.session()
    number = request.args.get("n", "")
    call = session.get(Notification, int(number)) if number.isascii() and number.isdecimal() \
        and 0 < int(number) <= _LARGEST_ID else None
    sid, digit = request.form.get("CallSid", ""), (request.form.get("Digits") or "")[:1]
    # The signed request must name the call it answers: a valid signature on another call's SID acts on nothing.
    if call is None or call.channel != "voice" or not sid or call.provider_id != sid:
        abort(404)
    if digit not in _KEYS:
        digit = ""
    if digit == "3" or not digit:
        again = call_twiml(call.body or "", settings.public_base_url + request.full_path.rstrip("?"))
        return Response(again, mimetype="text/xml")
    key = f"{sid}:{digit}"[:64]
    known = session.get(InboundMessage, key)
    if known is not None:
        return _voice_twiml(known.reply or "")  # Twilio retried: same answer, nothing done twice
    now = datetime.now(UTC)
    with settings.transaction(session):
        outcome, text = (settings.hooks.on_keypress(session, call, digit, now) if settings.hooks.on_keypress
                         else (None, "Merci. Au revoir."))
        if outcome:
            call.outcome, call.updated_at = outcome, now
        reply = say(text) + "<Hangup/>"
        session.add(InboundMessage(provider_id=key, keyword=f"appel:{digit}", reply=reply, at=now))
    return _voice_twiml(reply)
