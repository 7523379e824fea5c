"""Models of the measurement app."""
