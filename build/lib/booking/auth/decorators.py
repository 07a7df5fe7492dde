"""View guards built on the permission layer."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def staff_required(view):
    """Let only staff roles (agents, practitioners, commune admins, admins) in."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
