"""Patients, booking, cancellation, attendance and the waiting list."""
