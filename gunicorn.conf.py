"""Gunicorn settings for the portal, read from the working directory by `gunicorn app:app`.

Everything else (workers, bind address) is given on the command line or in GUNICORN_CMD_ARGS.
"""

import gunicorn.http.wsgi

# Gunicorn names itself in a `Server:` header on every response and has no setting to stop it; an
# outside review asked for the server software not to be disclosed. Name the service instead.
gunicorn.http.wsgi.SERVER = "portal"
