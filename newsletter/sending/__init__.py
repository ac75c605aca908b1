"""Sending issues: the lifecycle, the delivery ledger and the batches."""
