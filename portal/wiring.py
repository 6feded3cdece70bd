"""connect_handlers(): connect every module's signal receivers and jobs. Flask-free.

Every entry point calls it: the factory, CLI jobs and plain scripts. Receivers and jobs register
when their `handlers.py` is imported, so importing them here, at the top, is the wiring; calling it
twice is harmless.
"""

from types import ModuleType

from portal.allocation import handlers as allocation_handlers
from portal.expenses import handlers as expense_handlers
from portal.supervision import handlers as supervision_handlers
from portal.training import handlers as training_handlers
from portal.volunteers import handlers as volunteer_handlers
from portal.volunteers.interviews import handlers as interview_handlers
from portal.volunteers.references import handlers as reference_handlers
from portal.volunteers.vetting import handlers as vetting_handlers

HANDLER_MODULES: tuple[ModuleType, ...] = (
    volunteer_handlers, interview_handlers, reference_handlers, vetting_handlers, training_handlers,
    supervision_handlers, expense_handlers, allocation_handlers,
)


def connect_handlers() -> tuple[ModuleType, ...]:
    """Make sure every module's receivers and jobs are connected; returns the modules wired."""
    return HANDLER_MODULES
