"""The shared vocabulary every layer may import: table schemas, working columns, statuses, run results, days."""
