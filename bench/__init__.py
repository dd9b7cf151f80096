"""Benchmark of the Spark job against an independent DuckDB reference (`python -m bench.run`)."""
