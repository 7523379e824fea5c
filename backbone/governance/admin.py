from django.contrib import admin

from backbone.core.admin import AuditedAdmin
from backbone.governance.models import WorkingGroup


@admin.register(WorkingGroup)
class WorkingGroupAdmin(AuditedAdmin):
    list_display = ["name", "network", "life_stage", "chair"]
    list_filter = ["network"]
    filter_horizontal = ["organizations", "people"]
