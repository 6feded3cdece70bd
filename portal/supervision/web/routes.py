"""supervision pages; filled in by its author."""
