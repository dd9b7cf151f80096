"""The analysts' path: a SQL endpoint for BI tools, catalog views, terminal pairs, the daily report.

Everything here reads the tables the pipeline wrote; nothing here writes or recomputes them.
"""
