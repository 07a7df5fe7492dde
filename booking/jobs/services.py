"""Take and keep the scheduler lease; the database decides who holds it."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.jobs.models import JobLease

LEASE_NAME = "scheduler"
LEASE_SECONDS = 90


def acquire_lease(session: Session, holder: str, now: datetime, name: str = LEASE_NAME,
                  seconds: int = LEASE_SECONDS) -> bool:
    """Take or renew the lease for ``holder``; return whether it holds it now."""
    expires = now + timedelta(seconds=seconds)
    renewed = session.execute(
        update(JobLease).where(JobLease.name == name,
                               or_(JobLease.holder == holder, JobLease.expires_at < now))
        .values(holder=holder, expires_at=expires).execution_options(synchronize_session=False)
    ).rowcount
    if renewed:
        session.commit()
        return True
    if session.get(JobLease, name) is not None:
        session.rollback()
        return False
    try:
        session.add(JobLease(name=name, holder=holder, expires_at=expires))
        session.commit()
    except IntegrityError:
        session.rollback()  # another process created it first
        return False
    return True


def release_lease(session: Session, holder: str, name: str = LEASE_NAME) -> None:
    """Give the lease up (on a clean shutdown) so that another process takes over at once."""
    session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder)
                    .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
                    .execution_options(synchronize_session=False))
    session.commit()
