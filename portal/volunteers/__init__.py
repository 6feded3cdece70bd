"""Volunteer recruitment and records: applications now; interviews, vetting and profiles to follow.

Usable with a plain SQLAlchemy Session and no Flask (this package never imports it). Services take
the session first and `actor` (a User) and `now` (an aware datetime) as keywords, flush and never
commit: the caller owns the transaction.

Public API
----------
services (writes; every state change is audited in the same transaction)
    start_application(session, user, *, now) -> Application          (returns the existing draft)
    save_section(session, application_id, section, data, *, actor, now) -> Application
                                                                      (raises SectionInvalid.errors)
    task_list(application) -> [Task(section, status)];  incomplete_sections(application)
    submit_application(session, application_id, *, actor, now) -> Application
                                                   (idempotent; raises ApplicationIncomplete; e-mails)
    withdraw_application(session, application_id, *, actor, now, reason=None) -> Application
    shortlist_application(session, application_id, *, actor, now) -> Application
    reject_application(session, application_id, reason, *, actor, now) -> Application  (kind e-mail)
    move_application(session, application_id, target, *, actor, now)  (interview stages, offer)
    remind_stale_drafts(session, *, now, after_days=30) -> int        (one reminder per draft)
    delete_expired_drafts(session, *, now, after_days=None) -> int    (setting volunteers.draft_retention_days)
    normalise_postcode(raw) -> str | None;  configured_districts(session) -> [str]
    APPLICATION_TRANSITIONS: the status table
queries
    get_application, find_application_by_reference, find_current_application,
    list_possible_duplicates(session, application), list_duplicate_flags(session, applications),
    list_applications(session, ApplicationFilter, *, sort, descending, page, per_page) -> ApplicationPage
permissions
    can_start_application, can_view_application, can_edit_application, can_withdraw_application,
    can_review_applications, can_view_convictions
errors
    SectionInvalid, ApplicationIncomplete (both ValidationFailed)
"""
