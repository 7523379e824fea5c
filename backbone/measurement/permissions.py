"""Access policies for the measurement app (see backbone.core.access)."""
