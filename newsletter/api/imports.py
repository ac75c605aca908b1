"""API: imports."""
