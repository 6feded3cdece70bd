"""Tests of portal.volunteers.profiles (the offer)."""
