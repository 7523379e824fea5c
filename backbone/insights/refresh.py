"""The hook measurement calls after data values change, so analytics stay fresh without a
nightly batch. Called from `transaction.on_commit` by the measurement services."""

import logging

log = logging.getLogger(__name__)


def data_values_changed(*, network_id: int, value_ids: list[int]) -> None:
    """Bring the analytics of these values' indicators and measures up to date, inline:
    only the cells the values feed are recomputed (a fraction of a second)."""
    from backbone.insights.analytics.build import refresh_values

    try:
        refresh_values(network_id, list(value_ids))
    except Exception:
        # The values are committed; a failed refresh must not turn the save into an
        # error. The figures stay as they were until `backbone analytics rebuild`.
        log.exception(
            "Refreshing the analytics of network %s failed; run `backbone analytics "
            "rebuild` for it.",
            network_id,
        )
