"""The measurement models: the results framework (`framework`), data values and their
history (`values`), and reporting (`reporting`)."""

from backbone.measurement.models.framework import (
    CODE_HELP,
    Category,
    Dimension,
    Framework,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    Polarity,
    Result,
    Strategy,
    Unit,
)
from backbone.measurement.models.reporting import (
    ImportJob,
    ReportingAssignment,
    ResultNarrative,
    Submission,
    ValidationRule,
)
from backbone.measurement.models.values import DataValue, DataValueVersion

__all__ = [
    "CODE_HELP",
    "Category",
    "DataValue",
    "DataValueVersion",
    "Dimension",
    "Framework",
    "ImportJob",
    "Indicator",
    "IndicatorTarget",
    "MeasureTarget",
    "PerformanceMeasure",
    "Polarity",
    "ReportingAssignment",
    "Result",
    "ResultNarrative",
    "Strategy",
    "Submission",
    "Unit",
    "ValidationRule",
]
