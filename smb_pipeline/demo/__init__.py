"""Demo-data generators: deterministic archives with planted SMB stories (not used by a production run)."""
