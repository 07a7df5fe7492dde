"""Resident accounts: sign-up, the phone code, relatives."""
