"""Tests of portal.volunteers.references."""
