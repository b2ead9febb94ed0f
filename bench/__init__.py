"""Benchmarks and quality evaluation: run by hand, never part of the test suite's timing."""
