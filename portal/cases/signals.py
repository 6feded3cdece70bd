"""The case module's events, for higher modules (volunteers, training, supervision) to hear.

Receivers are module-level functions connected in their module's `handlers.py`; every signal is
sent inside the caller's transaction, before it commits.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

allocation_requested = _signals.signal(
    "allocation-requested",
    doc="""Asked before a person is allocated to a case (a veto question).

    *sender*: the Case (read `case.is_sensitive` and `case.district` for the rules that need them).
    kwargs: session, user_id (int), role (AllocationRole), on (date of the allocation).
    A receiver returns a string saying why the allocation must not happen, in the coordinator's words
    ("vetting expired on 3 March 2026"), or None to allow it. `allocate_case` raises AllocationBlocked
    with every reason returned.""",
)

case_allocated = _signals.signal(
    "case-allocated",
    doc="""Sent after an allocation is flushed. *sender*: the Allocation.
    kwargs: session, actor (User), now (aware datetime).""",
)

allocation_ended = _signals.signal(
    "allocation-ended",
    doc="""Sent after an allocation is ended (de-allocation, or the case closing); the person's access
    to the case ends with it. *sender*: the Allocation. kwargs: session, actor (User), now, reason (str).""",
)

case_status_changed = _signals.signal(
    "case-status-changed",
    doc="""Sent after a case moves to another status. *sender*: the Case (already in its new status).
    kwargs: session, previous (CaseStatus), actor (User), now (aware datetime).""",
)

case_closed = _signals.signal(
    "case-closed",
    doc="""Sent after a case is closed and its allocations ended (after case_status_changed).
    *sender*: the Case. kwargs: session, reason (ClosureReason), actor (User), now (aware datetime).""",
)

case_session_logged = _signals.signal(
    "case-session-logged",
    doc="""Sent after a session with the parties (preparation meeting, conference, shuttle exchange,
    letter or panel) is logged and flushed. *sender*: the CaseSession.
    kwargs: session, actor (User or None), now (aware datetime).""",
)
