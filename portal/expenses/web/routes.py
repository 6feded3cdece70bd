"""expenses pages; filled in by its author."""
