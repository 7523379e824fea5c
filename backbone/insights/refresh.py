"""The hook measurement calls after data values change, so analytics stay fresh without a
nightly batch. Called from `transaction.on_commit` by the measurement services."""


def data_values_changed(*, network_id: int, value_ids: list[int]) -> None:
    """Bring the analytics of these values' indicators and measures up to date."""
    return None
