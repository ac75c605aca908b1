"""API: posts."""
