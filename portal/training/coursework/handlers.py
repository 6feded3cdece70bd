"""Receivers of training's signals: the completion veto (coursework and practical passed?) and the cohort
report's question about each enrolment's assessment. Both only read."""

from __future__ import annotations

from portal.training import signals
from portal.training.coursework import services


@signals.completion_requested.connect
def coursework_and_practical_passed(enrolment, *, session, on=None, **_kwargs) -> str | None:
    """What is still missing from the coursework and the practical assessment, or None when both are passed."""
    problems = services.coursework_problems(session, enrolment)
    practical = services.practical_problem(session, enrolment)
    if practical:
        problems.append(practical)
    return "; ".join(problems) if problems else None


@signals.assessment_outcome_requested.connect
def assessment_outcomes(cohort, *, session, enrolments, **_kwargs) -> dict[int, str | None]:
    """'passed', 'referred', 'failed' or None for each enrolment, for the cohort report."""
    return services.assessment_standings(session, cohort.id, enrolments)
