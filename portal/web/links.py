"""Absolute links for e-mails and feeds, built from the configured public address, never the request.

A request's `Host:` header is chosen by whoever sends it: a link built from it (Flask's
`url_for(..., _external=True)`) in a password-reset e-mail would send the reset token to a forged host.
Every absolute link the portal hands out is built here from `PORTAL_BASE_URL` instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def base_url() -> str:
    """The configured public address without a trailing slash (`PORTAL_BASE_URL`)."""
    return current_app.config["BASE_URL"].rstrip("/")


def external_url(endpoint: str, **values) -> str:
    """The absolute address of `endpoint` under `PORTAL_BASE_URL` (scheme, host and any path prefix).

    Works inside and outside a request; the request's own host and scheme are never consulted.
    """
    base = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
