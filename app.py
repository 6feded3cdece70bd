"""WSGI entry point: `flask --app app run` or `gunicorn app:app`."""

from portal.factory import create_app

app = create_app()
