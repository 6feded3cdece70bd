"""Training pages: courses, cohorts, enrolment and registers; filled in by its author."""
