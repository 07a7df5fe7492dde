"""The filters and globals every template uses: French wording from the lower layers, registered once.

It sits above every feature so that the features' own rules (states, opening hours, modalities) can be named in
templates without the formatting layer knowing them.
"""

from flask import Flask

from booking.appointments.messages import written_channel
from booking.appointments.rules import state_label
from booking.clock import now
from booking.formatting import (
    ROLE_LABELS,
    SITE_KIND_LABELS,
    format_birth_date,
    format_day,
    format_days,
    format_hour,
    format_moment,
    format_number,
    format_timestamp,
    local_time,
    signed_in_as,
)
from booking.geo.rules import TIME_ZONE_LABELS
from booking.phones import format_phone
from booking.sites.calendar import describe_hours
from booking.sites.models import CLOSURE_REASONS
from booking.sites.rules import ACCESSIBILITY, EQUIPMENT, profession_label
from booking.slots.rules import consultation_mode, describe_rrule
from booking.stats.rules import format_cell
from booking.text import of_place
from booking.urls import public_url


def shown_cell(value) -> str:
    """A statistics cell on a page: « 8 413 » with its thousands space (the CSV keeps « 8413 », for spreadsheets)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
        return format_number(value)
    return format_cell(value)


def init_template_helpers(app: Flask) -> None:
    app.jinja_env.globals["public_url"] = public_url
    app.jinja_env.filters.update(
        cell=shown_cell,
        profession=profession_label,
        equipment=lambda codes: [EQUIPMENT.get(c, c) for c in codes or []],
        accessibility=lambda codes: [ACCESSIBILITY.get(c, c) for c in codes or []],
        rrule=describe_rrule,
        consultation_mode=lambda slot: consultation_mode(slot.modality, slot.site.requires_assistant),
        moment=format_moment,
        clock=lambda moment, zone: format_hour(local_time(moment, zone)),
        utc_minute=lambda moment: local_time(moment, "UTC").strftime("%Y%m%dT%H%M"),
        day=format_day,
        birthday=format_birth_date,
        hour=format_hour,
        phone=format_phone,
        number=format_number,
        days=format_days,
        timestamp=format_timestamp,
        site_kind=lambda kind: SITE_KIND_LABELS.get(kind, kind),
        role=lambda role: ROLE_LABELS.get(role, role),
        of_place=of_place,
        signed_in_as=lambda user: signed_in_as(user.display_name or user.email or format_phone(user.phone),
                                               user.role),
        time_zone=lambda zone: TIME_ZONE_LABELS.get(zone, zone),
        opening_hours=describe_hours,
        closure_reason=lambda reason: CLOSURE_REASONS.get(reason, reason),
        written_channel=written_channel,
        state=lambda appointment: state_label(appointment.status, appointment.slot.starts_at, now(),
                                              appointment.cancel_reason),
    )
