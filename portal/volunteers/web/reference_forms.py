"""Forms for the references pages: shape only (required, lengths, choices); services check policy."""
