"""The Flask-free kernel: database base, clock, accounts, audit, outbox, calendar, jobs, errors."""
