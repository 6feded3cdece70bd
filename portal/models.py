"""Every model module, imported so that `Base.metadata` is complete for migrations and tests."""

from portal.cases import models as case_models
from portal.core import accounts, audit, calendar, outbox, settings
from portal.volunteers import models as volunteer_models

MODEL_MODULES = (accounts, audit, calendar, outbox, settings, case_models, volunteer_models)
