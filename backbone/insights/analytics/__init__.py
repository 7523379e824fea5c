"""The analytics engine: indicator and measure figures at any level (organization, any
area with roll-up through the hierarchy, the network), any period roll-up and any
disaggregation; progress against baseline and target; trend; the turn-the-curve
forecast; equity gaps; partner contribution; the network scorecard.

Analytics count APPROVED values only, and every function takes the viewer's `Access` and
returns only what it may see. See docs/analytics.md.
"""

from backbone.insights.analytics.build import ensure_built, rebuild, refresh_values
from backbone.insights.analytics.cells import Cell
from backbone.insights.analytics.equity import Gap, equity_gaps
from backbone.insights.analytics.progress import Progress, progress
from backbone.insights.analytics.queries import (
    breakdown,
    breakdowns,
    by_area,
    by_areas,
    by_organization,
    series,
)
from backbone.insights.analytics.scorecard import IndicatorRow, ResultRow, scorecard

__all__ = [
    "Cell",
    "Gap",
    "IndicatorRow",
    "Progress",
    "ResultRow",
    "breakdown",
    "breakdowns",
    "by_area",
    "by_areas",
    "by_organization",
    "ensure_built",
    "equity_gaps",
    "progress",
    "rebuild",
    "refresh_values",
    "scorecard",
    "series",
]
