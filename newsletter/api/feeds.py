"""API: feeds."""
