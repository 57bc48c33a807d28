"""The grouper: a generic engine over a scheme's tables (conditions are data, not code)."""
