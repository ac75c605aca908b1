"""API: issues."""
