"""Pages of portal.volunteers (vetting); filled in by its author."""
