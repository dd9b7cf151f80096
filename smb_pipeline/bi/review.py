"""What `notebooks/smb_review.ipynb` shows, so the notebook holds no logic of its own.

`open_review(config_path, start, end)` reads the tables through Spark and answers the
notebook's questions as DataFrames (to `.show()`) or a matplotlib figure. Without dates it
covers the last seven days that have data.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from smb_pipeline.bi import charts, queries
from smb_pipeline.bi.catalog import RUNS_TABLE
from smb_pipeline.config import PipelineConfig, load_config, parse_day
from smb_pipeline.errors import ConfigError
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE
from smb_pipeline.transforms.frames import union_all

DEFAULT_DAYS = 7


@dataclass
class Review:
    spark: SparkSession
    config: PipelineConfig
    start: dt.date
    end: dt.date
    pairs_table: DataFrame
    rejects_table: DataFrame | None
    runs_table: DataFrame | None

    def top_sources(self) -> DataFrame:
        """External sources by connections over the days."""
        return queries.top_sources(self.pairs_table, self.start, self.end)

    def new_pairs(self) -> DataFrame:
        """Pairs seen for the first time on some day of the range (with that day)."""
        frames = [queries.new_pairs(self.pairs_table, self.start + dt.timedelta(days=n))
                  for n in range((self.end - self.start).days + 1)]
        columns = ("event_date", "src_ip", "dest_ip", "connection_count", "dest_ports", "sources")
        return union_all(frames).select(*columns).orderBy("event_date", F.desc("connection_count"))

    def trend(self) -> list[dict]:
        return [r.asDict() for r in queries.day_counts(self.pairs_table, self.rejects_table, self.start,
                                                       self.end).collect()]

    def trend_figure(self):
        return charts.trend_figure(self.trend())

    def busiest_destination(self) -> str | None:
        row = (queries.pairs_between(self.pairs_table, self.start, self.end)
               .groupBy("dest_ip").agg(F.sum("connections").alias("c")).orderBy(F.desc("c"), "dest_ip").first())
        return row.dest_ip if row else None

    def destination(self, dest_ip: str | None) -> DataFrame:
        """Drill-down: every source that reached `dest_ip`, per day (default: the busiest destination)."""
        return queries.destination_detail(self.pairs_table, dest_ip or self.busiest_destination() or "",
                                          self.start, self.end)

    def pairs(self, day: dt.date | None = None) -> DataFrame:
        """The pairs of one day (default: the last of the range), busiest first."""
        return queries.pairs_between(self.pairs_table, day or self.end, day or self.end)

    def rejects(self) -> DataFrame:
        """Rejected rows per source and reason over the days."""
        return queries.rejects_summary(_required(self.rejects_table, REJECTS_TABLE), self.start, self.end)

    def runs(self) -> DataFrame:
        """The run log of the days: what ran, what it read and kept, failures with their error."""
        runs = _required(self.runs_table, RUNS_TABLE)
        return (runs.filter(F.col("event_date").between(F.lit(self.start), F.lit(self.end)))
                .select("run_id", "command", "event_date", "status", "rows_read", "rows_kept", "rows_rejected",
                        "rows_excluded", "error")
                .orderBy("event_date", "run_id"))


def _required(table: DataFrame | None, name: str) -> DataFrame:
    if table is None:
        raise ConfigError(f"no {name} table in the lake yet: run `smb-pipeline run` first")
    return table


def _last_day(pairs: DataFrame) -> dt.date:
    row = pairs.agg(F.max("event_date").alias("last")).first()
    if row is None or row.last is None:
        raise ConfigError("the pair table is empty: run `smb-pipeline run` (or `make demo`) first")
    return row.last


def _load_from(root: str | None, config_path: str) -> PipelineConfig:
    """Load the config as the command line would from `root` (its relative paths mean the same),
    with a relative local output path made absolute."""
    from smb_pipeline.bi.catalog import absolute_output

    if not root:
        return absolute_output(load_config(config_path))
    here = os.getcwd()
    os.chdir(root)
    try:
        return absolute_output(load_config(config_path))
    finally:
        os.chdir(here)


def open_review(config_path: str, start: str | None = None, end: str | None = None, lake: str | None = None,
                root: str | None = None, master: str = "local[*]") -> Review:
    """Load the config (paths relative to `root`, the folder the CLI runs in; `lake` overrides
    output.path), start Spark, resolve the days."""
    from smb_pipeline.engine.session import build_spark_session

    config = _load_from(root, config_path)
    if lake:
        config = config.model_copy(update={"output": config.output.model_copy(update={"path": lake})})
    spark = build_spark_session("smb_pipeline review", master=master, spark_conf=config.spark,
                                delta_packages=config.delta_packages)
    pairs = queries.read_table(spark, config, PAIRS_TABLE)
    if pairs is None:
        raise ConfigError(f"no pair table at {config.output.table_path(PAIRS_TABLE)}: run `make demo` first")
    last = parse_day(end, "end") if end else _last_day(pairs)
    first = parse_day(start, "start") if start else last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise ConfigError(f"end: {last} is before start {first}")
    return Review(spark, config, first, last, pairs, queries.read_table(spark, config, REJECTS_TABLE),
                  queries.read_table(spark, config, RUNS_TABLE))
