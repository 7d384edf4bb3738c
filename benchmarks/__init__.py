"""Benchmarks: printed figures of speed and memory, never asserted in tests."""
