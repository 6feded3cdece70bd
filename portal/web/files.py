"""Responses that send an uploaded file back: the one place that decides how a stored upload is served.

Every upload is downloaded (`Content-Disposition: attachment`) unless `portal.core.files` re-encoded it as an
image, which may be shown in the browser. Either way the response carries a sandboxing Content-Security-Policy
(the one GitHub serves raw user files with: no scripts, no plugins, no requests, an opaque origin), `nosniff`,
same-origin resource policy and no caching, so even a file that fooled the checks cannot act as a page of
this site.
"""

from __future__ import annotations

import io

from flask import Response, send_file

from portal.core import files

FILE_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def upload_response(data: bytes, *, kind: str, name: str | None, reencoded: bool = False) -> Response:
    """Send the stored bytes of an upload of `kind` under a safe version of `name`.

    Shown in the browser only when `reencoded` and an image (`files.may_show_inline`), otherwise downloaded.
    The bytes are sent from memory (uploads are small), so no file handle outlives the response.
    """
    response = send_file(
        io.BytesIO(data), mimetype=files.KINDS[kind].content_type,
        as_attachment=not files.may_show_inline(kind, reencoded), download_name=files.download_name(name, kind),
        max_age=0, conditional=False, etag=False,
    )
    response.headers["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response
