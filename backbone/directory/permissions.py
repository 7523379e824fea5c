"""Access policies for the directory app (see backbone.core.access)."""
