"""A forgotten password: a single-use link by email (or by SMS to a verified mobile), valid 30 minutes.

The answer to a request never says whether an account exists.
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import notifications
from booking.auth.models import PasswordReset, User
from booking.auth.services import find_user_by_login, record_audit, set_password
from booking.auth.tokens import token_hash
from booking.errors import NotFound
from booking.outgoing import mail, sms

RESET_MINUTES = 30
LINK_GONE = "Ce lien n’est plus valable : il a déjà servi ou a expiré. Demandez-en un nouveau."


def request_reset(session: Session, login: str, now: datetime, link_for) -> None:
    """Send a reset link to the account named by ``login``, if there is one; the caller says the same either way.

    ``link_for(token)`` returns the absolute URL of the reset page for a token.
    """
    user = find_user_by_login(session, login)
    if user is None or not user.active:
        return
    by_email = "@" in (login or "") or not (user.phone and user.phone_verified_at)
    if by_email and not user.email:
        return  # a phone that was never verified cannot receive a reset: the desk helps
    # A new link replaces the pending ones: only the last one sent works.
    session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(16)  # 128 bits, short enough for a one-segment SMS
    reset = PasswordReset(user_id=user.id, token_hash=token_hash(token), channel="email" if by_email else "sms",
                          created_at=now, expires_at=now + timedelta(minutes=RESET_MINUTES))
    session.add(reset)
    session.flush()
    if by_email:
        notifications.enqueue(session, channel="email", recipient=user.email, due_at=now,
                              dedupe_key=f"password-reset:{reset.id}", subject=mail.reset_subject(),
                              body=mail.reset_body(link_for(token), RESET_MINUTES))
    else:
        notifications.enqueue(session, channel="sms", recipient=user.phone, due_at=now,
                              dedupe_key=f"password-reset:{reset.id}",
                              body=sms.password_reset(link_for(token), RESET_MINUTES))
    record_audit(session, user=user, action="password.reset_requested", object_type="user", object_id=user.id,
                 details={"channel": reset.channel}, now=now)


def pending_reset(session: Session, token: str, now: datetime) -> PasswordReset:
    """Return the reset behind a link while it may still be used, or raise NotFound."""
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_hash(token or "")))
    if reset is None or reset.used_at is not None or reset.expires_at <= now or not reset.user.active:
        raise NotFound(LINK_GONE)
    return reset


def reset_password(session: Session, token: str, new_password: str, now: datetime) -> User:
    """Set the new password through a pending link; the link is spent and every other session ends."""
    reset = pending_reset(session, token, now)
    user = reset.user
    set_password(user, new_password)  # refused before the link is spent: a weak choice may be retried
    # The conditional update spends the link once, even if it is submitted twice at the same instant.
    spent = session.execute(update(PasswordReset).where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
                            .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if spent != 1:
        raise NotFound(LINK_GONE)
    record_audit(session, user=user, action="password.reset", object_type="user", object_id=user.id, now=now)
    session.flush()
    return user
