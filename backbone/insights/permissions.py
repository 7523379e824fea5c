"""Access policies of the analytics tables (see backbone.core.access).

They hold approved figures only, written by the analytics build (never through a form).
Members read every figure; the public of a public network reads figures made from
population data only, as it reads approved population-level data values only.
"""

from backbone.core.access import EVERYONE, MEMBERS, PUBLIC, Policy, register
from backbone.insights.models import (
    AnalyticsAreaPath,
    AnalyticsCell,
    AnalyticsPeriod,
    AnalyticsState,
)


@register
class AnalyticsCellPolicy(Policy):
    model = AnalyticsCell
    rules = {"view": EVERYONE}

    def rows(self, access, action, queryset):
        if access.role == PUBLIC:
            return queryset.filter(source=AnalyticsCell.Source.POPULATION)
        return queryset


@register
class AnalyticsStatePolicy(Policy):
    model = AnalyticsState
    rules = {"view": MEMBERS}


@register
class AnalyticsAreaPathPolicy(Policy):
    model = AnalyticsAreaPath
    rules = {"view": EVERYONE}


@register
class AnalyticsPeriodPolicy(Policy):
    model = AnalyticsPeriod
    rules = {"view": EVERYONE}
