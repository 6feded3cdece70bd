"""Police and national security vetting: checks, renewals, reminders and "cleared to practise". Flask-free.

The one question every module asks
----------------------------------
queries.cleared_to_practise(session, user_id, on: date) -> Clearance(cleared: bool, reasons: list[str], applies)
    True only when every required check is cleared and in date on `on` (a check counts from the day
    it was cleared up to, not including, its expiry or review date). Reasons are in a coordinator's
    words: "Police vetting (NPPV2) lapsed on 3 March 2026". A person with no volunteer record is
    outside vetting (applies=False, cleared=True). Allocation asks it through the
    `allocation_requested` veto (handlers.py); supervision and reports should call it directly.

Public API
----------
models
    VettingCheck (one row per check; a renewal is a new row with `renews_id`), CheckKind (nppv, nsv,
    dbs, references), CheckStatus (not_started, submitted, cleared, refused, lapsed, withdrawn),
    LEVELS, CircumstanceReport, CircumstanceKind
rules (pure)
    CheckRule, DEFAULT_RULES, RULES_SETTING ("volunteers.vetting.rules"), computed_expiry, add_months,
    due_reminder, rules_from_setting, rules_as_setting
services (writes; flush, never commit; every change audited)
    CheckDetails; record_check(session, volunteer_id, details, *, actor, now, renews_id=None)
    update_check(session, check_id, details, *, actor, now)      (decisions and corrections)
    set_rules(session, {kind: CheckRule}, *, actor, now)
    report_circumstances(session, volunteer_id, kind, details, *, changed_on, actor, now)
    send_vetting_reminders(session, *, now) -> VettingRun        (the daily job's work)
    coordinator_emails(session); CHECK_TRANSITIONS; RECORDABLE_STATUSES
queries
    cleared_to_practise, clearance_of(checks, rules, on), check_problem, get_rules, get_check,
    list_checks, list_checks_by_volunteer, summarise_checks, vetting_dashboard(session, on) -> Dashboard,
    dashboard_counts / dashboard_page / dashboard_rows (the dashboard's groups counted, paged and
    exported in SQL, equal to vetting_dashboard's groups: tests/volunteers/vetting/test_dashboard_queries.py),
    list_circumstance_reports
permissions
    can_view_vetting, can_record_check, can_change_rules, can_view_circumstances,
    can_report_circumstances
errors
    CheckInvalid (ValidationFailed; `errors` maps form fields to messages)
handlers
    job "volunteers.vetting-reminders"; receiver of cases.signals.allocation_requested
demo
    load_demo_vetting(session, *, now, password_hash=None, coordinator=None)
"""
