"""The bare Flask app bench/throughput.py serves beside the portal: one route answering "Hello", the
ceiling any page's rate is compared with (same gunicorn settings, same machine, same run)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello"
