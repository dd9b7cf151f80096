"""The run's composition: read, normalize, validate, classify, exclude, aggregate, write; with claims and signals."""
