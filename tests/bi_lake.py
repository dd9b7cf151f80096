"""A small lake for the analysts' tests: four days of generated cim data run through the job.

Tables are read back with delta-rs (`deltalake`), independently of Spark, to compute what
the views, the commands and the report must show.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml
from deltalake import DeltaTable

from smb_pipeline.config import load_config
from smb_pipeline.demo.generate import COMPANY_SUBNETS, generate_cim_archive
from smb_pipeline.operations.runlog import logged_run

FIRST_DAY = dt.date(2026, 11, 1)
DAYS = 4
LAST_DAY = FIRST_DAY + dt.timedelta(days=DAYS - 1)


@dataclass(frozen=True)
class BiLake:
    config_path: Path
    lake: Path

    def rows(self, table: str) -> list[dict]:
        return DeltaTable(str(self.lake / table)).to_pyarrow_table().to_pylist()


def make_bi_lake(spark, root: Path) -> BiLake:
    """Generate, write a config file, run the job over all days with the given session."""
    generate_cim_archive(root / "archive", DAYS, 2000, 11, FIRST_DAY)
    (root / "subnets.txt").write_text("\n".join(COMPANY_SUBNETS) + "\n")
    document = {
        "sources": [{"name": "perimeter", "format": "cim", "path": str(root / "archive")}],
        "company_subnets": str(root / "subnets.txt"),
        "output": {"path": str(root / "lake")},
        "spark": {"spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false",
                  "spark.databricks.delta.snapshotPartitions": "2", "spark.driver.memory": "1g"},
    }
    config_path = root / "bi.yaml"
    config_path.write_text(yaml.safe_dump(document))
    logged_run(spark, load_config(config_path), FIRST_DAY, LAST_DAY, command="run")
    return BiLake(config_path, root / "lake")


def expected_trend(lake: BiLake) -> dict[dt.date, dict]:
    """Per day: pairs, connections, distinct sources and destinations, rejects (plain Python)."""
    days: dict[dt.date, dict] = defaultdict(lambda: {"pairs": 0, "connections": 0, "src": set(), "dest": set(),
                                                     "rejects": 0})
    for row in lake.rows("smb_allowed_daily"):
        day = days[row["event_date"]]
        day["pairs"] += 1
        day["connections"] += row["connection_count"]
        day["src"].add(row["src_ip"])
        day["dest"].add(row["dest_ip"])
    for row in lake.rows("rejected_events"):
        days[row["event_date"]]["rejects"] += 1
    return {d: {"pairs": v["pairs"], "connections": v["connections"], "distinct_sources": len(v["src"]),
                "distinct_destinations": len(v["dest"]), "rejects": v["rejects"]} for d, v in days.items()}


def expected_pairs(lake: BiLake, start: dt.date, end: dt.date) -> dict[tuple[str, str], int]:
    """(src_ip, dest_ip) -> connections over start..end."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for row in lake.rows("smb_allowed_daily"):
        if start <= row["event_date"] <= end:
            totals[(row["src_ip"], row["dest_ip"])] += row["connection_count"]
    return dict(totals)


def expected_new_pairs(lake: BiLake, day: dt.date) -> set[tuple[str, str]]:
    rows = lake.rows("smb_allowed_daily")
    earlier = {(r["src_ip"], r["dest_ip"]) for r in rows if r["event_date"] < day}
    return {(r["src_ip"], r["dest_ip"]) for r in rows if r["event_date"] == day} - earlier
