"""Retention purge and erasure."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from booking.accounts.models import PhoneVerification
from booking.appointments.models import Appointment
from booking.auth.models import AuditEvent, PasswordReset
from booking.database import unit_of_work
from booking.patients.models import Patient
from booking.privacy.services import Retention, erase_patient, purge
from notifications.models import InboundMessage, Notification
from tests import builders

NOW = datetime(2030, 6, 1, 3, 0, tzinfo=UTC)


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_purge_keeps_each_kind_for_its_period_only(session, world):
    old, recent = NOW - timedelta(days=40), NOW - timedelta(hours=1)
    for sent in (old, recent):
        session.add(PhoneVerification(user_id=world.resident_a.id, phone="+33600000001", code_hash="x",
                                      sent_at=sent, expires_at=sent))
        # Not a patient's number: inactive patients (the world's, by 2030) have their own purge.
        session.add(Notification(channel="sms", recipient="+33600000077", body="RDV lundi", status="sent",
                                 due_at=sent, dedupe_key=f"k{sent:%j}", updated_at=sent, created_at=sent))
        session.add(InboundMessage(provider_id=f"SM{sent:%j}", keyword="ANNULER", reply="ok", at=sent))
        session.add(PasswordReset(user_id=world.resident_a.id, token_hash=f"{sent:%j}" * 16, channel="email",
                                  created_at=sent, expires_at=sent + timedelta(minutes=30)))
    session.add(Notification(channel="sms", recipient="+33600000002", body="pas encore envoyé", status="pending",
                             due_at=old, dedupe_key="pending", updated_at=old, created_at=old))
    session.add(AuditEvent(at=NOW - timedelta(days=6 * 365), action="patient.read", object_type="patient"))
    session.commit()
    report = purge(session, NOW, Retention())
    assert report.counts["verification_codes"] == 1 and _count(session, PhoneVerification) == 1
    assert report.counts["inbound_messages"] == 1 and _count(session, InboundMessage) == 1
    assert report.counts["password_resets"] == 1 and _count(session, PasswordReset) == 1
    assert report.counts["audit_events"] == 1
    bodies = dict(session.execute(select(Notification.dedupe_key, Notification.body)).all())
    assert bodies[f"k{old:%j}"] is None and bodies[f"k{recent:%j}"] == "RDV lundi"
    assert bodies["pending"] == "pas encore envoyé"  # never blank a message still to send
    masked = session.scalar(select(Notification.recipient).where(Notification.dedupe_key == f"k{old:%j}"))
    assert masked == "+33•••••••77"
    assert purge(session, NOW, Retention()).counts["verification_codes"] == 0  # idempotent


def test_inactive_patients_lose_their_identity_after_three_years(session, world):
    quiet = builders.make_patient(session, first_name="Gérard", last_name="Puech",
                                  created_at=NOW - timedelta(days=4 * 365))
    session.commit()
    report = purge(session, NOW, Retention())
    erased = session.get(Patient, quiet.id)
    assert report.counts["inactive_patients"] >= 1
    assert erased.last_name == "effacé" and erased.phone is None and erased.erased_at == NOW


def test_erasure_removes_identity_contact_and_reasons_but_keeps_outcomes(session, world):
    world.appointment_a.reason = "douleurs"
    world.appointment_a.status = "attended"
    world.patient_a.street, world.patient_a.postal_code = "4 rue de la Fontaine", "15140"
    world.patient_a.caregiver_name, world.patient_a.caregiver_phone = "Sylvie V.", "+33612345678"
    session.commit()
    with unit_of_work(session):
        erase_patient(session, world.patient_a.id, NOW)
    patient = session.get(Patient, world.patient_a.id)
    assert (patient.first_name, patient.last_name, patient.phone, patient.email, patient.account_id) == (
        "Patient", "effacé", None, None, None)
    assert (patient.street, patient.postal_code, patient.caregiver_name, patient.caregiver_phone) == (
        None, None, None, None)
    appointment = session.get(Appointment, world.appointment_a.id)
    assert appointment.status == "attended" and appointment.reason is None
    assert patient.birth_date is not None and patient.commune_insee == builders.COMMUNE_A
    erased = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.erase")).all()
    assert [(e.patient_id, e.user_id) for e in erased] == [(world.patient_a.id, None)]


def test_purge_command(runner, session):
    result = runner.invoke(args=["privacy", "purge", "--now", "2030-06-01T03:00:00Z"])
    assert result.exit_code == 0 and "verification_codes : 0" in result.output


def test_a_patient_sees_who_opened_their_record_and_exports_it(app, client, auth, session, world):
    staff = app.test_client()
    staff.post("/connexion", data={"login": world.agent_a.email, "password": builders.PASSWORD})
    staff.get(f"/gestion/patients/{world.patient_a.id}")
    auth.login(world.resident_a.email)
    page = client.get("/compte/acces").get_data(as_text=True)
    assert world.agent_a.display_name in page and "a ouvert le dossier" in page
    exported = client.get(f"/compte/export/{world.patient_a.id}.json").get_json()
    assert exported["patient"]["last_name"] == world.patient_a.last_name
    assert exported["patient"]["postal_address"] == {"street": None, "complement": None, "postal_code": None}
    assert exported["appointments"][0]["reference"] == world.appointment_a.reference
    assert any(e["action"] == "patient.read" for e in exported["access_log"])
    assert client.get(f"/compte/export/{world.patient_b.id}.json").status_code == 404


def test_admins_filter_the_audit_log(app, client, auth, session, world):
    session.add_all([AuditEvent(at=NOW, user_id=world.agent_a.id, role="agent", action="patient.read",
                                object_type="patient", object_id=str(world.patient_a.id),
                                patient_id=world.patient_a.id),
                     AuditEvent(at=NOW, user_id=world.agent_b.id, role="agent", action="patient.read",
                                object_type="patient", object_id=str(world.patient_b.id),
                                patient_id=world.patient_b.id)])
    session.commit()
    auth.login(world.admin.email)
    page = client.get("/admin/journal", query_string={"patient": world.patient_a.id}).get_data(as_text=True)
    assert world.agent_a.display_name in page and world.agent_b.display_name not in page
    auth.logout()
    auth.login(world.commune_admin_a.email)
    assert client.get("/admin/journal").status_code == 403
