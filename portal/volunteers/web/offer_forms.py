"""Forms for the offers pages: shape only (required, lengths, choices); services check policy."""
