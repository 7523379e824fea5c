from django.contrib import admin

from backbone.core.admin import AuditedAdmin
from backbone.partners.models import ProspectAssessment, ReadinessAssessment


@admin.register(ProspectAssessment)
class ProspectAssessmentAdmin(AuditedAdmin):
    list_display = ["organization", "network", "influence", "alignment", "assessed_on"]
    list_filter = ["network"]
    raw_id_fields = ["organization"]


@admin.register(ReadinessAssessment)
class ReadinessAssessmentAdmin(AuditedAdmin):
    list_display = ["organization", "network", "score", "level", "submitted_at"]
    list_filter = ["network", "level"]
    raw_id_fields = ["organization"]
