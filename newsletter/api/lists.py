"""API: lists."""
