"""Create, check and revoke API tokens."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from booking.api.models import ApiToken
from booking.auth.models import User
from booking.auth.services import normalize_email
from booking.auth.tokens import token_hash
from booking.errors import NotFound

PREFIX = "rvs_"


def _account(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"Aucun compte pour {email}.")
    return user


def create_token(session: Session, email: str, name: str, now: datetime) -> str:
    """Create a token for the account with this email; return it (it is never shown again)."""
    user = _account(session, email)
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), name=name, created_at=now))
    session.flush()
    return token


def revoke_tokens(session: Session, email: str, now: datetime) -> int:
    """Revoke every live token of an account; return how many."""
    user = _account(session, email)
    tokens = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))))
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(tokens)


# Built once: every API call reads its token (building the statement cost more than running it).
_TOKEN_WITH_USER = (select(ApiToken).options(joinedload(ApiToken.user))
                    .where(ApiToken.token_hash == bindparam("token_hash")))


def user_for_token(session: Session, token: str, now: datetime) -> tuple[User | None, bool]:
    """Return the active user of a live token (or None) and whether its last use was just recorded (flushed)."""
    if not token.startswith(PREFIX):
        return None, False
    row = session.scalar(_TOKEN_WITH_USER, {"token_hash": token_hash(token)})
    if row is None or row.revoked_at is not None or not row.user.active:
        return None, False
    # Recorded to the minute at most: a write per request would cost a commit on every API call.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
        session.flush()
        return row.user, True
    return row.user, False
