"""Every action name the portal writes to the audit trail, for the audit log's filter.

The filter offers this fixed list instead of reading distinct names from a table of a million rows.
`tests/core/test_audit_actions.py` reads every `audit.record(...)` call in `portal/` and fails when one
writes an action missing here, so add the name when you add an audited action. Names are
`<area>.<what happened>`; the areas below hold the part after the dot, separated by spaces.
"""

from __future__ import annotations

_BY_AREA: dict[str, str] = {
    "allocation": (
        "case_allocated needs_set offer_accepted offer_declined offer_lapsed offer_withdrawn offered "
        "page_viewed proposal_created proposal_item_confirmed proposal_item_discarded settings_changed"
    ),
    "application": (
        "anonymised convictions_viewed draft_deleted draft_reminded interview_booked interviewed note_added "
        "offered rejected section_saved shortlisted started submitted withdrawn"
    ),
    "auth": (
        "invitation_accepted password_changed password_reset password_reset_requested sign_in_failed "
        "sign_up_confirmed sign_up_for_existing_account sign_up_requested signed_in"
    ),
    "case": (
        "action_added action_status_changed agreement_recorded allocated allocation_ended "
        "allocation_flagged_for_review allocation_parties_set allocation_review_cleared closed "
        "consent_recorded consent_withdrawn contact_attempt_recorded feedback_recorded "
        "home_visit_approval_set intervention_type_chosen note_added party_added party_updated "
        "referral_recorded referral_updated risk_assessed risk_assessment_approved session_recorded "
        "status_changed viewed"
    ),
    "cases": "report_exported",
    "coursework": (
        "allocated assignment_changed assignment_created conflict_declared conflict_withdrawn "
        "extension_granted file_opened marked marking_saved marking_started marking_stopped moderated "
        "practical_recorded released resubmitted_before_marking submitted"
    ),
    "expense_batch": "claim_removed created exported locked paid",
    "expense_claim": "approved in_batch paid queried rejected started submitted withdrawn",
    "expense_line": "added approved duplicate_dismissed rejected removed saved",
    "expense_receipt": "added removed",
    "expenses": "mileage_rate_added other_mileage_declared policy_changed report_exported",
    "interview": (
        "booked booking_cancelled booking_released booking_updated invited moved record_erased record_updated "
        "recorded reminded slot_cancelled slot_created slot_updated"
    ),
    "reference": "chased decided received recorded reported_missing requested resent",
    "supervision": (
        "booked booking_cancelled booking_moved booking_updated debrief_prompted due_soon_reminded "
        "overdue_reminded record_updated record_viewed reminded rules_changed session_recorded slot_cancelled "
        "slot_published slot_updated supervisor_named supervisor_removed"
    ),
    "training": (
        "attendance_recorded cohort_cancelled cohort_created cohort_updated completed course_created "
        "course_updated enrolled make_up_booked make_up_cancelled needs_updated promoted_from_waiting_list "
        "waiting_listed withdrawn"
    ),
    "user": "created deactivated invited reactivated roles_changed",
    "vetting": (
        "check_lapsed check_recorded check_renewed check_updated circumstances_reported circumstances_viewed "
        "exported reminder_sent rules_changed"
    ),
    "volunteer": "created rejoined status_changed",
    "volunteers": (
        "absence_added absence_removed conflict_declared conflict_withdrawn conflicts_viewed "
        "experience_changed paused preferences_updated resumed"
    ),
}

ACTIONS: tuple[str, ...] = tuple(
    sorted(f"{area}.{name}" for area, names in _BY_AREA.items() for name in names.split())
)
