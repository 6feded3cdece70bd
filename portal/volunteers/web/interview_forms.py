"""Forms for the interviews pages: shape only (required, lengths, choices); services check policy."""
