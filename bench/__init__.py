"""Benchmarks that run Local Voice side by side with its peers."""
