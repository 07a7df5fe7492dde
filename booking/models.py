"""Import every model so that metadata is complete (for Alembic and the tests)."""

from booking.accounts.models import PhoneVerification
from booking.api.models import ApiToken
from booking.appointments.models import Appointment
from booking.auth.models import AuditEvent, User
from booking.extensions import db
from booking.feedback.models import FeedbackAnswer
from booking.geo.models import Commune, Departement, Epci, FormerCommune, PostalCode, Region
from booking.jobs.models import JobLease
from booking.patients.models import Patient
from booking.sas.models import SasConsumer
from booking.search.models import UnmetDemand
from booking.sites.models import (
    AssistantDuty,
    HolidayOpening,
    OpeningHours,
    Practitioner,
    Profession,
    Room,
    Site,
    SiteClosure,
    SiteInvitation,
    SitePractitioner,
)
from booking.slots.models import AvailabilityRule, Slot
from booking.stats.models import DelaySample, MonthlyFigures, PractitionerCount, ReportDelivery
from booking.waitlist.models import WaitlistEntry
from booking.walkins.models import WalkInVisit
from notifications.models import InboundMessage, Notification, SmsOptOut
from notifications.models import metadata as notifications_metadata

ALL_METADATA = [db.metadata, notifications_metadata]
# Built by a migration only where the server has pg_trgm (typo-tolerant commune search), so not a model.
OPTIONAL_INDEXES = {"ix_communes_search_name_trgm"}


def compared_with_models(obj, name, type_, reflected, compare_to) -> bool:
    """Tell Alembic's comparison to leave out what the models cannot declare."""
    return not (type_ == "index" and name in OPTIONAL_INDEXES)

__all__ = [
    "ALL_METADATA", "compared_with_models",
    "ApiToken", "Appointment", "DelaySample", "ReportDelivery", "InboundMessage", "SmsOptOut",
    "AuditEvent", "AvailabilityRule", "Commune", "Departement", "Epci",
    "FormerCommune", "JobLease", "Notification", "Patient", "PostalCode", "Practitioner", "Region", "Room", "Site",
    "HolidayOpening", "OpeningHours", "SiteClosure", "WalkInVisit", "AssistantDuty", "Profession", "FeedbackAnswer",
    "MonthlyFigures", "PractitionerCount", "SasConsumer",
    "PhoneVerification", "SiteInvitation", "SitePractitioner", "Slot", "UnmetDemand", "User", "WaitlistEntry",
]
