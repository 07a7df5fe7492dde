"""Outbox, channels and dispatcher for SMS and email.

This package never imports ``booking``: the application tells it what to send
and when; it stores, sends, retries and tracks.
"""

from notifications.models import Notification
from notifications.outbox import attachment, cancel_group, enqueue, enqueue_many

__all__ = ["Notification", "attachment", "cancel_group", "enqueue", "enqueue_many"]
