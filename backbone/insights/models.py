"""Analytics tables of the insights app (see backbone.insights.analytics)."""
