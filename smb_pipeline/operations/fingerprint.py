"""Fingerprints of the input files a day reads, so a backfill can skip days whose inputs did not change.

Files are listed by the storage layer (Spark's `binaryFile` source), so the same code works for
local paths, HDFS, S3 (s3a://) and ADLS (abfss://), and over Spark Connect. Only file metadata
is read, never data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import SparkSession

from smb_pipeline.config import PipelineConfig, SourceConfig
from smb_pipeline.model.columns import MARGIN_DAYS, PARTITION_COLUMN
from smb_pipeline.storage.files import InputFile, has_partition_folders, list_files


def _is_partitioned(spark: SparkSession, root: str) -> bool:
    return has_partition_folders(spark, root, PARTITION_COLUMN)


def _list_files(spark: SparkSession, path: str) -> list[InputFile]:
    """Data files below `path` (recursively), skipping hidden and underscore files as Spark does."""
    return list_files(spark, path)


class _Listings:
    """Folder listings for one run: adjacent days share margin folders, so each is listed once."""

    def __init__(self, spark: SparkSession):
        self._spark = spark
        self._files: dict[str, list[InputFile]] = {}
        self._partitioned: dict[str, bool] = {}

    def files(self, path: str) -> list[InputFile]:
        if path not in self._files:
            self._files[path] = _list_files(self._spark, path)
        return self._files[path]

    def partitioned(self, root: str) -> bool:
        if root not in self._partitioned:
            self._partitioned[root] = _is_partitioned(self._spark, root)
        return self._partitioned[root]


def _source_files_for_day(listings: _Listings, source: SourceConfig, day: dt.date) -> list[InputFile]:
    """The files a run of `day` reads: its folder and the margin folders, or the whole archive."""
    root = source.path.rstrip("/")
    if not listings.partitioned(root):
        return listings.files(root)
    day_folders = [f"{root}/{PARTITION_COLUMN}={(day + dt.timedelta(days=d)).isoformat()}"
                   for d in range(-MARGIN_DAYS, MARGIN_DAYS + 1)]
    return [file for folder in day_folders for file in listings.files(folder)]


@dataclass(frozen=True)
class DayInputs:
    day: dt.date
    files: int
    bytes: int
    fingerprint: str


def _day_inputs(listings: _Listings, config: PipelineConfig, day: dt.date) -> DayInputs:
    digest = hashlib.sha256()
    files = total = 0
    for source in config.sources:
        for file in sorted(_source_files_for_day(listings, source, day), key=lambda f: f.path):
            digest.update(f"{source.name}\0{file.path}\0{file.size}\0{file.modified_ms}\n".encode())
            files += 1
            total += file.size
    return DayInputs(day, files, total, digest.hexdigest())


def inputs_for_days(spark: SparkSession, config: PipelineConfig, days: Sequence[dt.date]) -> dict[dt.date, DayInputs]:
    """Count and fingerprint (paths, sizes, modification times) the files of every source, per day."""
    listings = _Listings(spark)
    return {day: _day_inputs(listings, config, day) for day in days}
