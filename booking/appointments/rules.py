"""Pure booking rules: references, lateness."""

import secrets
from datetime import datetime, timedelta

# No 0/O, 1/I/L, 5/S, 8/B: read aloud at a desk or over the phone without confusion.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXYZ234679"
LATE_CANCELLATION = timedelta(hours=24)


def new_reference() -> str:
    """Return a short human reference such as K7P-3QX."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def is_late_cancellation(slot_start: datetime, cancelled_at: datetime) -> bool:
    """Tell whether a cancellation comes less than 24 hours before the slot."""
    return slot_start - cancelled_at < LATE_CANCELLATION
