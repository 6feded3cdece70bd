"""Access gates for routes: `role_required` for coarse checks, `require` after loading an object."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from portal.core.accounts import Role


def role_required(*roles: Role):
    """Only signed-in people holding one of `roles` may use the view; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require(allowed: bool, *, hide: bool = True) -> None:
    """Stop unless `allowed`: 404 by default, so a changed id in a URL reveals nothing; 403 if not hiding."""
    if not allowed:
        abort(404 if hide else 403)
