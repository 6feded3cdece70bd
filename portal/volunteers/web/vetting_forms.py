"""Forms for the vetting pages: shape only (required, lengths, choices); services check policy."""
