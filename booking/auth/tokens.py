"""Secrets handed to people (API tokens, calendar feeds, invitations) are stored as digests only."""

import hashlib


def token_hash(token: str) -> str:
    """Return the SHA-256 hex digest under which a secret token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
