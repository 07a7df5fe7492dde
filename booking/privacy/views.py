"""Pages of personal-data rights: the audit log (admins), the account's access log and export."""

from datetime import date

from flask import Blueprint, abort, jsonify, render_template, request
from flask_login import current_user, login_required

from booking.auth.permissions import is_admin, is_resident
from booking.extensions import db
from booking.geo.rules import time_zone_for_insee
from booking.patients.accounts import account_patients
from booking.privacy.services import audit_log, export_patient, record_readers

blueprint = Blueprint("privacy", __name__)


@blueprint.route("/admin/journal")
@login_required
def journal():
    """The audit log, filtered by patient, user and day (platform admins only)."""
    if not is_admin(current_user):
        abort(403)
    try:
        day = date.fromisoformat(request.args["jour"]) if request.args.get("jour") else None
    except ValueError:
        day = None
    events = audit_log(db.session, patient_id=request.args.get("patient", type=int),
                       user_id=request.args.get("utilisateur", type=int), day=day)
    return render_template("privacy/journal.html", events=events)


@blueprint.route("/compte/acces")
@login_required
def my_record_readers():
    """Who at the mairie or among practitioners opened the records of this account's patients."""
    if not is_resident(current_user):
        abort(403)
    patients = account_patients(db.session, current_user)
    return render_template("privacy/readers.html",
                           events=record_readers(db.session, [p.id for p in patients]),
                           patients={p.id: p for p in patients},
                           time_zone=time_zone_for_insee(patients[0].commune_insee if patients else None))


@blueprint.route("/compte/export/<int:patient_id>.json")
@login_required
def export(patient_id: int):
    """Download everything held about one of the account's patients (right of access)."""
    if not is_resident(current_user) or patient_id not in {p.id for p in account_patients(db.session, current_user)}:
        abort(404)
    response = jsonify(export_patient(db.session, patient_id))
    response.headers["Content-Disposition"] = f'attachment; filename="mes-donnees-{patient_id}.json"'
    return response
