from backbone.core.access import ADMINS, EVERYONE, Policy, register
from backbone.governance.models import WorkingGroup


@register
class WorkingGroupPolicy(Policy):
    model = WorkingGroup
    rules = {"view": EVERYONE, "add": ADMINS, "change": ADMINS, "delete": ADMINS}
