"""Jobs and signal receivers of portal.expenses, connected by portal.wiring."""

from __future__ import annotations
