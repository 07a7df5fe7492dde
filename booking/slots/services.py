"""Slot use cases: materialize rules into slots."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.slots import rules
from booking.slots.models import AvailabilityRule, Slot

DEFAULT_HORIZON_DAYS = 90


def materialize_rule(session: Session, rule: AvailabilityRule, now: datetime,
                     horizon_days: int = DEFAULT_HORIZON_DAYS, since: datetime | None = None) -> int:
    """Create the missing slots of a rule up to the horizon; return how many were created."""
    window_end = now + timedelta(days=horizon_days)
    times = rules.expand(
        rule.rrule, rule.start_date, rule.start_time, rule.end_time, rule.slot_minutes, rule.site.time_zone,
        buffer_minutes=rule.buffer_minutes, until=rule.until, count=rule.count,
        window_start=since or now, window_end=window_end,
    )
    if not times:
        return 0
    existing = set(session.scalars(select(Slot.starts_at).where(
        Slot.practitioner_id == rule.practitioner_id,
        Slot.starts_at >= times[0].starts_at, Slot.starts_at <= times[-1].starts_at,
    )))
    created = 0
    for slot_time in times:
        if slot_time.starts_at in existing:
            continue
        session.add(Slot(
            rule_id=rule.id, practitioner_id=rule.practitioner_id, site_id=rule.site_id, room_id=rule.room_id,
            starts_at=slot_time.starts_at, ends_at=slot_time.ends_at, modality=rule.modality,
            capacity=rule.capacity,
        ))
        created += 1
    session.flush()
    return created
