"""The command line: commands, one-line errors and exit codes, the console, progress, summaries.

`main` (the `smb-pipeline` command) and `job_main` (spark-submit entry points) are re-exported
so that `smb_pipeline.cli:main` keeps working for wrappers written against it.
"""

from smb_pipeline.cli.commands import job_main, main

__all__ = ["job_main", "main"]
