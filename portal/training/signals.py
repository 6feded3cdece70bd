"""The training module's events and veto questions, for training.coursework and higher modules.

Receivers are module-level functions connected in their module's `handlers.py`; every signal is
sent inside the caller's transaction, before it commits.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

completion_requested = _signals.signal(
    "completion-requested",
    doc="""Asked before an enrolment is recorded as completed (a veto question).

    *sender*: the Enrolment (read `enrolment.id`, `enrolment.user_id`, `enrolment.cohort_id`,
    `enrolment.cohort.course`). kwargs: session (Session), on (datetime.date of the completion).
    Attendance is checked by training itself; the coursework package answers for the written coursework
    and the practical assessment. A receiver returns a string saying what is still missing, in the
    coordinator's words ("Coursework not yet passed", "Practical assessment not yet passed"), or None
    when its part is done. `complete_enrolment` raises CompletionBlocked carrying every reason returned;
    `completion_problems` lists them without raising (for the cohort page and the report). Receivers must
    only read: they are also asked when nothing is about to change.""",
)

enrolment_changed = _signals.signal(
    "enrolment-changed",
    doc="""Sent after an enrolment is created or changes status (enrolled, waiting, withdrawn, completed).
    *sender*: the Enrolment (already in its new status). kwargs: session, previous (EnrolmentStatus or
    None for a new enrolment), actor (User or None for a job), now (aware datetime).""",
)

course_completed = _signals.signal(
    "course-completed",
    doc="""Sent after an enrolment is recorded as completed (after enrolment_changed).
    *sender*: the Enrolment (`completed_on` set). kwargs: session, actor (User), now (aware datetime).""",
)

assessment_outcome_requested = _signals.signal(
    "assessment-outcome-requested",
    doc="""Asked by the cohort report, once for all the enrolments it counts: how each one's assessment
    stands. Read only; a receiver answers in a fixed number of statements, however many enrolments.

    *sender*: the Cohort. kwargs: session (Session), enrolments (list of the cohort's Enrolments).
    A receiver returns a dict from enrolment id to one of the strings "passed" (coursework and practical
    both passed), "referred" (the latest coursework or practical outcome is refer: a resubmission or
    re-observation is due), "failed", or None when nothing has been marked yet. The report counts
    "passed" and "referred"; when several receivers answer, "failed" beats "referred" beats "passed".""",
)
