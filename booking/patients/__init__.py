"""Patients: identity, contact, the desk's search and the staff's view of a record."""
