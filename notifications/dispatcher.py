"""Send what is due, exactly once, with retries.

How a crash cannot cause a second SMS: a row is first claimed (status
``sending``) and that claim is committed *before* the provider is called; the
result is committed after. A dispatcher killed between the provider's
acceptance and that second commit leaves the row in ``sending``. Such a row is
never sent again blindly: once it has been stuck for ``STUCK_AFTER``, the
dispatcher asks the provider for a message with the same recipient and body
accepted since the claim, and records it as sent if there is one; only when
the provider has none is the row put back in the queue.
"""

import asyncio
import logging
import multiprocessing
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from notifications.models import Notification, SmsOptOut
from notifications.sms import PROVIDER_CONNECTIONS, SendResult, mask
from notifications.voice import call_twiml

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
UNSENDABLE = "unsendable"  # the message itself is at fault (a header with a line break…), not the recipient
STUCK_AFTER = timedelta(minutes=5)
BATCH = 200  # messages claimed at once, at most
SEND_CONCURRENCY = PROVIDER_CONNECTIONS  # provider calls in flight at once, per dispatcher


def batch_size(concurrency: int) -> int:
    """How many messages a dispatcher claims at once with ``concurrency`` calls in flight: two rounds of calls.

    A dispatcher holds two batches at most (one sending, the next claimed): a few rounds of calls rather than
    hundreds of messages, so that processes sending side by side run out together (with batches of 200, one of two
    sent its last 200 alone: 0.3 s of 2.8 for 3,000 SMS) and a crash leaves fewer messages waiting for recovery.
    """
    return min(BATCH, 2 * max(1, concurrency))


def backoff(attempts: int) -> timedelta:
    """Return how long to wait before the next try: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Hooks:
    """What the application does with what the provider reports.

    ``on_permanent_failure``: a number cannot receive SMS. ``on_keypress(session, call, digit, now)``: a key
    pressed during a call (other than 3, which reads the message again); returns (outcome, text to say).
    ``on_call_outcome(session, call, now)``: a call ended (``call.outcome`` says how).
    """

    on_permanent_failure: Callable[[Session, Notification], None] | None = None
    on_keypress: Callable[[Session, Notification, str, datetime], tuple[str | None, str]] | None = None
    on_call_outcome: Callable[[Session, Notification, datetime], None] | None = None


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)


def claim(session: Session, now: datetime, worker: str, limit: int = BATCH) -> list[int]:
    """Mark up to ``limit`` due messages as being sent by this worker, atomically; return their ids."""
    # Materialized, so that PostgreSQL picks the rows once: as a subquery it may run it again for each row it
    # updates, each time skipping what other dispatchers have locked since, and claim more than ``limit``.
    due = (select(Notification.id)
           .where(Notification.status == "pending", Notification.due_at <= now)
           .order_by(Notification.due_at, Notification.id).limit(limit)
           .with_for_update(skip_locked=True)  # PostgreSQL; SQLite is already serialized by BEGIN IMMEDIATE
           .cte("due").prefix_with("MATERIALIZED", dialect="postgresql"))
    ids = list(session.scalars(
        update(Notification)
        .where(Notification.id.in_(select(due.c.id)), Notification.status == "pending")
        .values(status="sending", claimed_at=now, claimed_by=worker, attempts=Notification.attempts + 1,
                updated_at=now)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    ))
    session.commit()
    return sorted(ids)


def _record_failure(session: Session, message: Notification, result: SendResult, now: datetime, hooks: Hooks,
                    report: DispatchReport) -> None:
    """A refused or failed call: try again later, or give up (and tell the application when the number is at fault)."""
    message.updated_at = now
    if result.transient and message.attempts < MAX_ATTEMPTS:
        message.status, message.due_at = "pending", now + backoff(message.attempts)
        message.error_code, message.last_error = result.error_code, result.error
        report.retried += 1
    else:
        message.status, message.error_code, message.last_error = "failed", result.error_code, result.error
        report.failed += 1
        if not result.transient and result.error_code != UNSENDABLE and hooks.on_permanent_failure:
            hooks.on_permanent_failure(session, message)


_OUTBOX = Notification.__table__
# The statements of every batch, built once; on the tables, not the mapped class: the dispatcher needs no objects
# (only a failure loads its message, for the application's hooks).
_MARK_SENT = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("message_id"))
              .values(status="sent", provider_id=bindparam("provider_id"), sent_at=bindparam("now"), error_code=None,
                      last_error=None, updated_at=bindparam("now")))
_BATCH = (select(_OUTBOX.c.id, _OUTBOX.c.channel, _OUTBOX.c.recipient, _OUTBOX.c.body, _OUTBOX.c.subject,
                 _OUTBOX.c.html_body, _OUTBOX.c.attachments, _OUTBOX.c.headers, _OUTBOX.c.dedupe_key,
                 _OUTBOX.c.expires_at)
          .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True))).order_by(_OUTBOX.c.id))
_OPTED_OUT = (select(SmsOptOut.__table__.c.phone)
              .where(SmsOptOut.__table__.c.phone.in_(bindparam("phones", expanding=True))))
_CANCEL = (update(_OUTBOX).where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
           .values(status="cancelled", last_error=bindparam("reason"), updated_at=bindparam("now")))


def _mark_sent(session: Session, sent: list[tuple[int, str | None]], now: datetime, report: DispatchReport) -> None:
    """Record what the provider accepted, with one statement run for every message."""
    if sent:
        session.execute(_MARK_SENT, [{"message_id": message_id, "provider_id": provider_id, "now": now}
                                     for message_id, provider_id in sent])
    report.sent += len(sent)


def recover_stuck(session: Session, now: datetime, sms_backend, report: DispatchReport, voice_backend=None) -> None:
    """Settle messages left in ``sending`` by a dispatcher that died, without sending any twice."""
    stuck = list(session.scalars(select(Notification).where(
        Notification.status == "sending", Notification.claimed_at < now - STUCK_AFTER)))
    for message in stuck:
        provider_id = None
        if message.channel == "sms":
            provider_id = sms_backend.find_sent(message.recipient, message.body or "",
                                                message.claimed_at - timedelta(days=1))
        elif message.channel == "voice" and voice_backend is not None:
            provider_id = voice_backend.find_placed(message.recipient, message.claimed_at - timedelta(minutes=1))
        logged_only = (message.channel == "sms" and sms_backend.name == "log") or (
            message.channel == "voice" and voice_backend is not None and voice_backend.name == "log")
        if provider_id or logged_only:
            message.status, message.provider_id, message.sent_at = "sent", provider_id, message.claimed_at
        else:
            message.status = "pending"
        message.updated_at = now
        report.recovered += 1
        log.warning("Message %s repris après l’arrêt d’un expéditeur : %s", message.id, message.status)
    session.commit()


def _call(message, voice_backend, webhook_base_url: str | None) -> SendResult:
    if voice_backend is None or not webhook_base_url:
        return SendResult(error_code=UNSENDABLE, error="Appels non configurés")
    base = webhook_base_url.rstrip("/")
    twiml = call_twiml(message.body or "", f"{base}/twilio/voice/keypress?n={message.id}")
    return voice_backend.call(message.recipient, twiml, f"{base}/twilio/voice/status")


@dataclass(frozen=True)
class _Outgoing:
    """What a provider call needs, copied out of the session: worker threads never touch the ORM."""

    id: int
    channel: str
    recipient: str
    body: str
    subject: str
    html_body: str | None
    attachments: list | None
    headers: dict | None = None
    dedupe_key: str = ""


def _send(outgoing: _Outgoing, sms_backend, mail_backend, voice_backend, status_callback, webhook_base_url,
          partner_backend=None):
    try:
        if outgoing.channel == "sms":
            return sms_backend.send(outgoing.recipient, outgoing.body, status_callback)
        if outgoing.channel == "voice":
            return _call(outgoing, voice_backend, webhook_base_url)
        if outgoing.channel == "fhir":
            if partner_backend is None:
                return SendResult(error_code=UNSENDABLE, error="Partenaire non configuré")
            return partner_backend.put(outgoing.recipient, outgoing.body)
        return mail_backend.send(outgoing.recipient, outgoing.subject, outgoing.body, outgoing.html_body,
                                 outgoing.attachments, outgoing.headers, f"{outgoing.id}:{outgoing.dedupe_key}")
    except Exception as error:  # one unsendable message must not hold back the rest of the batch
        return _unsendable(outgoing, error)


def _unsendable(outgoing: "_Outgoing", error: Exception) -> SendResult:
    log.exception("Message %s impossible à envoyer", outgoing.id)
    return SendResult(error_code=UNSENDABLE, error=f"Message impossible à envoyer : {error}"[:500])


class _SmsLoop:
    """An event loop in a thread of its own, sending the SMS of the dispatcher's batches through the backend's
    asynchronous sender (one loop instead of a thread a call: the threads took turns on one GIL, and cost more
    CPU than the calls). Each send is a ``Future`` like the pool's: the dispatcher settles both alike."""

    def __init__(self, sms_backend, status_callback: str | None, connections: int):
        self.status_callback = status_callback
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="dispatch-sms", daemon=True)
        self.thread.start()
        self.sender = sms_backend.async_sender(connections)
        try:
            self._wait(self.sender.__aenter__())
        except BaseException:
            self._stop()  # no loop thread left running in the scheduler
            raise

    def _wait(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def submit(self, outgoing: "_Outgoing") -> Future:
        return asyncio.run_coroutine_threadsafe(self._send(outgoing), self.loop)

    async def _send(self, outgoing: "_Outgoing") -> SendResult:
        try:
            return await self.sender.send(outgoing.recipient, outgoing.body, self.status_callback)
        except Exception as error:  # as in _send: one unsendable message must not hold back the batch
            return _unsendable(outgoing, error)

    def close(self) -> None:
        try:
            self._wait(self.sender.__aexit__(None, None, None))
        finally:
            self._stop()

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


def dispatch(session: Session, now: datetime, *, sms_backend, mail_backend, status_callback: str | None = None,
             hooks: Hooks | None = None, worker: str | None = None, limit: int | None = None,
             voice_backend=None, webhook_base_url: str | None = None,
             concurrency: int = SEND_CONCURRENCY, recover: bool = True, partner_backend=None) -> DispatchReport:
    """Send every message due at ``now``; return what happened.

    The provider calls run ``concurrency`` at a time (a provider answers in tens of milliseconds: waiting for
    each in turn caps a worker at a few dozen messages a second): SMS from one event loop when the backend has an
    asynchronous sender (Twilio), the rest in a pool of threads; and the next batch is claimed while the pool
    sends the current one, so that the pool never waits for the database. The database is read and written by
    this thread only. Exactly once still holds: a batch's claim is committed before any of its calls, and a
    crash before the results are committed leaves the batch in ``sending``, settled by ``recover_stuck`` with
    the provider's own records.
    ``webhook_base_url`` (the public address of ``/notifications``) is where calls report keys and outcomes.
    ``recover=False`` leaves stuck messages alone (see ``dispatch_in_processes``).
    ``partner_backend`` PUTs the ``fhir`` messages (documents for partner systems, see ``partners``).
    """
    hooks = hooks or Hooks()
    worker = worker or worker_name()
    report = DispatchReport()
    if recover:
        recover_stuck(session, now, sms_backend, report, voice_backend)
    remaining = limit
    size = batch_size(concurrency)
    in_flight = None  # the batch the pool is sending while the next one is claimed
    sms_loop = None  # started with the first SMS, when the backend can send asynchronously
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="dispatch") as pool:
            while True:
                batch = None
                if remaining is None or remaining > 0:
                    batch = _claim_batch(session, now, worker, size if remaining is None else min(size, remaining),
                                         report)
                if batch is not None:
                    outgoing, claimed = batch
                    if sms_loop is None and hasattr(sms_backend, "async_sender") and any(
                            item.channel == "sms" for item in outgoing):
                        sms_loop = _SmsLoop(sms_backend, status_callback, concurrency)
                    futures = [sms_loop.submit(item) if sms_loop is not None and item.channel == "sms" else
                               pool.submit(_send, item, sms_backend, mail_backend, voice_backend, status_callback,
                                           webhook_base_url, partner_backend) for item in outgoing]
                    if remaining is not None:
                        remaining -= claimed
                if in_flight is not None:
                    _settle(session, *in_flight, now, hooks, report)
                if batch is None:
                    break
                in_flight = (outgoing, futures)
    finally:
        if sms_loop is not None:
            sms_loop.close()
    return report


def _claim_batch(session: Session, now: datetime, worker: str, size: int, report: DispatchReport):
    """Claim a batch, cancel what must not go (STOP, too late); return what to send, or None when nothing is due."""
    ids = claim(session, now, worker, size)
    if not ids:
        return None
    rows = session.execute(_BATCH, {"ids": ids}).all()
    phones = {row.recipient for row in rows if row.channel == "sms"}
    opted_out = set(session.scalars(_OPTED_OUT, {"phones": list(phones)})) if phones else set()
    stopped = {row.id for row in rows if row.channel == "sms" and row.recipient in opted_out}
    late = {row.id for row in rows if row.id not in stopped and row.expires_at is not None and now > row.expires_at}
    for cancelled, reason in ((stopped, "STOP reçu"), (late, "Trop tard")):
        if cancelled:
            session.execute(_CANCEL, {"ids": sorted(cancelled), "reason": reason, "now": now})
            report.skipped += len(cancelled)
    skipped = stopped | late
    outgoing = [_Outgoing(row.id, row.channel, row.recipient, row.body or "", row.subject or "", row.html_body,
                          row.attachments, row.headers, row.dedupe_key) for row in rows if row.id not in skipped]
    session.commit()
    return outgoing, len(ids)


def _settle(session: Session, outgoing: list[_Outgoing], futures: list, now: datetime, hooks: Hooks,
            report: DispatchReport) -> None:
    """Wait for a batch's provider calls and record their results."""
    results = [future.result() for future in futures]
    sent = [(item.id, result.provider_id) for item, result in zip(outgoing, results, strict=True) if result.ok]
    _mark_sent(session, sent, now, report)
    for item, result in zip(outgoing, results, strict=True):
        if not result.ok:
            _record_failure(session, session.get(Notification, item.id), result, now, hooks, report)
            report.errors.append(f"{item.id}: {result.error}")
            log.info("Envoi %s vers %s : %s", item.id, mask(item.recipient), result.error)
    session.commit()


SendShare = Callable[[int | None, int, bool], DispatchReport]


def dispatch_in_processes(session: Session, now: datetime, processes: int, send: SendShare,
                          limit: int | None = None) -> DispatchReport:
    """Send what is due in ``processes`` forked processes when there is more than a batch for each; return the sum.

    ``send(limit, concurrency, recover)`` dispatches with backends of its own (built in the process that calls it,
    so that no connection to the provider is shared across a fork) through the session ``session`` is. One process
    is bound to one core (its Python runs under one GIL): a process per core sends more. Claims skip the rows
    another process has locked, so the processes never send the same message. Stuck messages are settled here first,
    by this process alone: two processes settling the same row could both put it back in the queue, one of them
    after the other had sent it again. The provider calls in flight stay at ``SEND_CONCURRENCY`` in all, shared
    between the processes (the provider limits an account's concurrent requests). On SQLite, whose writes take
    turns, everything is sent here.
    """
    if processes <= 1 or session.get_bind().dialect.name == "sqlite":
        return send(limit, SEND_CONCURRENCY, True)
    report = send(0, 1, True)  # settles stuck messages, sends nothing
    enough = BATCH * processes
    due = session.scalar(select(func.count()).select_from(
        select(Notification.id).where(Notification.status == "pending", Notification.due_at <= now)
        .limit(enough).subquery()))
    if due < enough or (limit is not None and limit < enough):
        return _sum([report, send(limit, SEND_CONCURRENCY, False)])
    session.commit()  # no transaction of this process's may be open across the fork
    shares = [None] * processes if limit is None else [
        limit // processes + (1 if i < limit % processes else 0) for i in range(processes)]
    context = multiprocessing.get_context("fork")
    children = []
    for share in shares:
        reader, writer = context.Pipe(duplex=False)
        child = context.Process(target=_send_share, args=(session, send, share,
                                                          max(1, SEND_CONCURRENCY // processes), writer),
                                name="dispatch")
        child.start()
        writer.close()  # the child's copy stays open: reading ends (EOFError) when the child is gone
        children.append((child, reader))
    reports = [report]
    for child, reader in children:
        try:
            reports.append(reader.recv())
        except EOFError:
            # Its claimed messages stay in "sending" until recover_stuck settles them with the provider's records.
            log.error("Un processus d’envoi s’est arrêté (code %s)", child.exitcode)
            reports.append(DispatchReport(errors=[f"processus d’envoi {child.pid} arrêté"]))
        child.join()
        reader.close()
    return _sum(reports)


def _send_share(session: Session, send: SendShare, limit: int | None, concurrency: int, writer) -> None:
    """In a forked child: dispatch with a connection of its own, and hand the report to the parent."""
    engine = session.get_bind()
    # A fresh pool, the parent's untouched (its connections are the parent's, even if this process holds a copy).
    engine.dispose(close=False)
    report = DispatchReport()
    try:
        report = send(limit, concurrency, False)
    except Exception as error:  # the claimed messages stay in "sending": recovered like a crash's
        log.exception("Processus d’envoi en échec")
        report.errors.append(f"processus d’envoi {os.getpid()} : {error}"[:500])
    finally:
        session.close()
        engine.dispose()
        writer.send(report)
        writer.close()


def _sum(reports: list[DispatchReport]) -> DispatchReport:
    total = DispatchReport()
    for report in reports:
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        total.skipped += report.skipped
        total.recovered += report.recovered
        total.errors += report.errors
    return total
