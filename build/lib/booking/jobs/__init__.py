"""Periodic jobs, run by one scheduler process that holds a lease in the database."""
