"""Bounces: addresses that name the delivery a bounce is about, and reading them back."""
