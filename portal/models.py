"""Every model module, imported so that `Base.metadata` is complete for migrations and tests."""

from portal.allocation import models as allocation_models
from portal.cases import models as case_models
from portal.core import accounts, audit, calendar, outbox, settings, versions
from portal.expenses import models as expense_models
from portal.supervision import models as supervision_models
from portal.training import models as training_models
from portal.training.coursework import models as coursework_models
from portal.volunteers import models as volunteer_models
from portal.volunteers.interviews import models as interview_models
from portal.volunteers.profiles import models as profile_models
from portal.volunteers.references import models as reference_models
from portal.volunteers.vetting import models as vetting_models

MODEL_MODULES = (
    accounts, audit, calendar, outbox, settings, versions, case_models, volunteer_models, profile_models,
    interview_models, reference_models, vetting_models, training_models, coursework_models,
    supervision_models, expense_models, allocation_models,
)
