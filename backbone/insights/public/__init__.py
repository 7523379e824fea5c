"""What leaves the network: the public report card, open data and the community report,
every figure small-cell suppressed (backbone.insights.suppression)."""
