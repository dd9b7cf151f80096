"""Operating the lake over time: the run log, backfill, maintenance, input fingerprints."""
