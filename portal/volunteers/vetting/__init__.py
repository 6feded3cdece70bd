"""Police and national security vetting: checks, renewals, reminders and "cleared to practise". Flask-free."""
