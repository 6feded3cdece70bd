"""The volunteers module's events, for its sub-packages and higher modules to hear.

Every signal is sent inside the caller's transaction, before it commits.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

application_anonymised = _signals.signal(
    "application-anonymised",
    doc="""Sent when a closed application's personal data is erased after the retention period.
    *sender*: the Application (personal fields already blank). kwargs: session, now (aware datetime).
    Receivers erase what they hold about the applicant (interview notes, references).""",
)
