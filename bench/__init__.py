"""Benchmarks for the station: ``python -m bench list`` shows them (see README.md)."""
