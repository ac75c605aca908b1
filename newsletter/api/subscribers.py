"""API: subscribers."""
