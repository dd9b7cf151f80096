"""spark-submit entry point of the nightly allowed-SMB job.

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 --py-files smb_pipeline.zip \
        jobs/smb_traffic_allowed.py --config conf/example.yaml --date 2026-11-27
"""

import sys

from smb_pipeline.cli.commands import job_main

if __name__ == "__main__":
    sys.exit(job_main())
