"""Reactions to a committed change, so that a lower package never imports a higher one.

A service announces what happened (``announce(session, "slot_freed", slot_id=…)``); the packages
that care subscribe in the app factory. Each reaction runs after the announcing unit of work has
committed, in a unit of work of its own (``booking.database.after_commit``).
"""

from collections.abc import Callable
from functools import partial

from flask import Flask, current_app
from sqlalchemy.orm import Session

from booking.database import after_commit

SLOT_FREED = "slot_freed"            # slot_id, now: a booked seat became free again
SLOTS_PUBLISHED = "slots_published"  # site_id, now: new slots were opened at a site
ATTENDED = "attended"                # appointment_id, now: the desk or the practitioner noted « venu »
STATUS_CHANGED = "status_changed"    # appointment_id, now: cancelled, attended, no-show, or such a mark undone


def subscribe(app: Flask, event: str, reaction: Callable[..., object]) -> None:
    """Run ``reaction(session, **details)`` after every committed ``event``."""
    app.extensions.setdefault("booking.reactions", {}).setdefault(event, []).append(reaction)


def announce(session: Session, event: str, **details) -> None:
    """Schedule the subscribers of ``event`` to run once the current unit of work commits."""
    for reaction in current_app.extensions.get("booking.reactions", {}).get(event, ()):
        after_commit(session, partial(reaction, **details))
