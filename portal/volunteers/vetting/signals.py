"""The vetting module's events, for higher modules (allocation) to hear.

Receivers are module-level functions connected in their module's `handlers.py`; every signal is
sent inside the caller's transaction, before it commits.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

clearance_lost = _signals.signal(
    "clearance-lost",
    doc="""Sent when a required check lapses, or is refused or withdrawn, and leaves the volunteer no
    longer cleared to practise (sent where their current allocations are flagged for review).

    *sender*: the Volunteer. kwargs: session, user_id (int), reason (str, in a coordinator's words:
    "Police vetting lapsed on 3 March 2026"), now (aware datetime).""",
)
