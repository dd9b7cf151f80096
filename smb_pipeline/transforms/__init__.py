"""Pure DataFrame -> DataFrame transforms: validation and IP parsing, the SMB filter, company exclusion, aggregation."""
