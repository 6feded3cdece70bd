"""References: requesting them from referees by single-use link, recording and chasing them. Flask-free.

Public API
- services: `request_references`, `resend_reference_request`, `check_link`, `submit_reference`,
  `decide_reference`, `record_reference`, `chase_references` (the `volunteers.reference-chasers` job),
  `chase_days`, `link_days`; settings `volunteers.reference_chase_days` (default 7) and
  `volunteers.reference_link_days` (default 28).
- queries: `get_reference`, `list_references`, `list_satisfactory_positions`, `find_link` (-> LinkLookup).
- permissions: `can_manage_references`, `can_request_references`, `can_read_reference`,
  `can_see_reference_progress`; `REQUESTABLE_STATUSES`.
- models: `Reference`, `ReferenceLink`, `ReferenceStatus`, `ReceivedBy`, `WouldRecommend`.
- errors: `ReferenceInvalid` (messages per field), `ReferenceLinkUnusable` (with a `LinkState`).
"""
