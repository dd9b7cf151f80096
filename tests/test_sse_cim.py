"""The classic use case's own data shape: Splunk Security Essentials' "SMB Traffic Allowed" demo.

Its demo data has five columns only (`_time, src_ip, dest_ip, dest_port, action`), 42 rows
inside one /24, all allowed, on ports 139 and 445, at one instant. As a `cim` archive it must
run end to end and give the SSE search's per-day (src_ip, dest_ip) counts, computed here.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from smb_pipeline.config import config_from_dict
from smb_pipeline.run.pipeline import run_pipeline

DAY = dt.date(2026, 11, 20)
INSTANT = dt.datetime(2026, 11, 20, 14, 3, 7, tzinfo=dt.timezone.utc)


def _sse_rows() -> list[dict]:
    """42 allowed SMB rows between a handful of hosts of 192.168.10.0/24, with repeated pairs."""
    rng = random.Random(11)
    hosts = [f"192.168.10.{n}" for n in (5, 17, 23, 42, 101, 200)]
    rows = []
    for _ in range(42):
        src, dest = rng.sample(hosts, 2)
        rows.append({"_time": INSTANT, "src_ip": src, "dest_ip": dest,
                     "dest_port": rng.choice([139, 445]), "action": "allowed"})
    return rows


def test_five_column_sse_archive_gives_the_sse_search_counts(spark, tmp_path):
    rows = _sse_rows()
    folder = tmp_path / "sse" / f"dt={DAY.isoformat()}"
    folder.mkdir(parents=True)
    schema = pa.schema([("_time", pa.timestamp("us", tz="UTC")), ("src_ip", pa.string()),
                        ("dest_ip", pa.string()), ("dest_port", pa.int64()), ("action", pa.string())])
    pq.write_table(pa.Table.from_pylist(rows, schema), folder / "part-0.parquet")
    config = config_from_dict({
        "sources": [{"name": "sse_demo", "format": "cim", "path": str(tmp_path / "sse")}],
        "company_subnets": ["10.0.0.0/8"],  # the demo's /24 is not the company's here
        "output": {"path": str(tmp_path / "lake")},
    })

    result = run_pipeline(spark, config, DAY, DAY)

    # The SSE search: action=allowed (dest_port 139 or 445), bucket _time by day, count by src, dest.
    expected = sorted((DAY, src, dest, count, count, [], ["sse_demo"], ["sse_demo"])
                      for (src, dest), count in Counter((r["src_ip"], r["dest_ip"]) for r in rows).items())
    pairs = spark.read.format("delta").load(str(tmp_path / "lake" / "smb_allowed_daily"))
    actual = sorted(
        (r.event_date, r.src_ip, r.dest_ip, r.connection_count, r.event_count, r.apps,
         r.sources, r.devices)
        for r in pairs.collect()
    )
    assert actual == expected
    (counts,) = result.sources
    assert (counts.rows_read, counts.aggregated, counts.rejected, counts.not_allowed_smb) == (42, 42, 0, 0)
    assert result.pairs_written == len(expected)
