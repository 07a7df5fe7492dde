"""View guards built on the permission layer."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from booking.auth.models import User
from booking.auth.permissions import is_resident, works_at_desk


def staff_required(view):
    """Let only staff roles (agents, practitioners, commune admins, admins) in."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def current_resident() -> User:
    """The signed-in resident; any other account gets 403."""
    if not is_resident(current_user):
        abort(403)
    return current_user._get_current_object()


def current_desk_user() -> User:
    """The signed-in agent, referent or administrator booking at a desk; any other account gets 403."""
    if not works_at_desk(current_user):
        abort(403)
    return current_user._get_current_object()
