"""connect_handlers(): connect every module's signal receivers and jobs. Flask-free.

Every entry point calls it: the factory, CLI jobs and plain scripts. Receivers connect when their
`handlers.py` is imported, so importing them here, at the top, is the wiring; connecting twice is
harmless. Modules that add handlers list them in HANDLER_MODULES.
"""

from types import ModuleType

HANDLER_MODULES: tuple[ModuleType, ...] = ()


def connect_handlers() -> tuple[ModuleType, ...]:
    """Make sure every module's receivers and jobs are connected; returns the modules wired."""
    return HANDLER_MODULES
