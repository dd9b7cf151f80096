"""Run claims: runs whose days overlap are serialized per output and day, on any storage.

The coordination record is a small Delta table, `<output.path>/pipeline_claims`, one row per
day held: (event_date, run_id, command, host, pid, started_at, expires_at). A run claims its
days before computing anything and releases them when it ends; a background thread renews the
claims (the lease) every `output.claim_lease_seconds / 4`, so a run killed with SIGKILL stops
renewing and its days become claimable once `expires_at` has passed (at once when the holder
was on this host and its process is gone).

Why this is safe, from Delta's own conflict rules (docs.delta.io "Concurrency control"):
* Every change to the table is a MERGE, UPDATE or DELETE that reads the table before it
  writes, so none is a blind append; the table is also created with
  `delta.isolationLevel = Serializable`, under which even blind appends conflict. Delta's
  optimistic commit therefore rejects a transaction when a commit it did not see added or
  removed files matching what it read (ConcurrentAppendException, ConcurrentDeleteRead...,
  the DeltaConcurrentModificationException family). The table is not partitioned, so any
  concurrent change conflicts: the commits on it are serializable, as if one after another.
* Taking a day is a compare-and-swap: insert when no row exists, or replace the row only if
  it still has the run id *and* the `expires_at` that was seen expired. A holder that renewed
  in the meantime changed `expires_at`, so the swap does nothing.
* A loser of a conflict re-reads and tries again; after each successful MERGE the run reads
  the rows back and holds the days only when every one carries its run id. Otherwise it gives
  back what it took and waits (`--wait`) or fails with ConcurrencyError (exit 3).
* Delta's commit is an atomic put-if-absent of the next log entry: the storage's own
  guarantee (the LogStore for S3, ADLS, GCS, HDFS), with no lock file or rename of ours.
A lease is time-based: a run that cannot renew its claims for a whole lease (storage outage,
frozen driver) stops before its next commit, and hosts' clocks must agree to well within the
lease. Claims serialize writers of this pipeline only; other writers to the tables do not
take claims.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, LongType, StringType, StructField, StructType, TimestampType

from smb_pipeline.errors import ConcurrencyError
from smb_pipeline.storage import delta_io

CLAIMS_TABLE = "pipeline_claims"
CONFLICT_RETRIES = 20
WAIT_POLL_SECONDS = 2.0

log = logging.getLogger("smb_pipeline")

CLAIMS_SCHEMA = StructType(
    [
        StructField("event_date", DateType()),
        StructField("run_id", StringType()),
        StructField("command", StringType()),
        StructField("host", StringType()),
        StructField("pid", LongType()),
        StructField("started_at", TimestampType()),
        StructField("expires_at", TimestampType()),
    ]
)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Claim:
    """One held day."""

    event_date: dt.date
    run_id: str
    command: str
    host: str
    pid: int
    started_at: dt.datetime
    expires_at: dt.datetime

    def is_stale(self, now: dt.datetime) -> bool:
        """Expired, or held by a process of this host that no longer exists."""
        return _aware(self.expires_at) < now or (self.host == socket.gethostname() and not _alive(self.pid))

    def describe(self) -> str:
        started = _aware(self.started_at).strftime("%Y-%m-%d %H:%M:%S")
        return f"run {self.run_id} on host {self.host} (pid {self.pid}), started {started} UTC"


def _aware(moment: dt.datetime) -> dt.datetime:
    """Spark returns naive timestamps in the process zone; claims compare UTC instants."""
    return moment if moment.tzinfo else moment.astimezone(dt.timezone.utc)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _conflict(exc: BaseException) -> bool:
    return delta_io.is_concurrent_modification(exc)


class RunClaims:
    """The days of one run, claimed before it computes and released when it ends."""

    def __init__(self, spark: SparkSession, output_path: str, run_id: str, command: str,
                 days: Sequence[dt.date], lease_seconds: float) -> None:
        self.spark = spark
        self.path = f"{output_path.rstrip('/')}/{CLAIMS_TABLE}"
        self.run_id = run_id
        self.command = command
        self.days = list(days)
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.started_at = utc_now()
        self.renewed_at = time.monotonic()
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    # -- acquiring --------------------------------------------------------------------------

    def acquire(self, wait_seconds: float, check: Callable[[], None] = lambda: None) -> list[Claim]:
        """Hold every day of the run, waiting up to `wait_seconds` for other runs' claims.

        Returns the stale claims taken over (their runs are to be logged `abandoned`).
        Raises ConcurrencyError naming the holder when the days stay held; `check` runs
        between polls (a signal stops the wait).
        """
        delta_io.create_table_if_absent(self.spark, self.path, CLAIMS_SCHEMA,
                                        {"delta.isolationLevel": "Serializable"})
        deadline = time.monotonic() + wait_seconds
        announced = False
        while True:
            taken, blocker = self._attempt()
            if blocker is None:
                self._start_heartbeat()
                return taken
            if time.monotonic() >= deadline:
                days = f"{self.days[0]}..{self.days[-1]}"
                raise ConcurrencyError(
                    f"days {days} are held by {blocker.describe()} (day {blocker.event_date}); "
                    f"try again later or pass --wait SECONDS"
                )
            if not announced:
                log.warning("waiting up to %.0f s for %s", wait_seconds, blocker.describe())
                announced = True
            time.sleep(min(WAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            check()

    def _attempt(self) -> tuple[list[Claim], Claim | None]:
        """One claim attempt: (stale claims taken over, None) or ([], the live blocking claim)."""
        for _ in range(CONFLICT_RETRIES):
            current = self._read()
            now = utc_now()
            live = [c for c in current if c.run_id != self.run_id and not c.is_stale(now)]
            if live:
                self._release_own()
                return [], live[0]
            stale = [c for c in current if c.run_id != self.run_id]
            try:
                self._merge(stale, now)
            except Exception as exc:
                if _conflict(exc):
                    log.info("claim lost a race on %s; re-reading", self.path)
                    continue
                raise
            held = self._read()
            if len(held) == len(self.days) and all(c.run_id == self.run_id for c in held):
                self.renewed_at = time.monotonic()
                return stale, None
        raise ConcurrencyError(f"{self.path}: could not claim the days after {CONFLICT_RETRIES} conflicting "
                               "attempts; too many runs at once")

    def _read(self) -> list[Claim]:
        rows = (delta_io.read_table(self.spark, self.path)
                .filter(F.col("event_date").isin(self.days)).collect())  # one row per day at most
        return [Claim(**row.asDict()) for row in rows]

    def _merge(self, stale: Sequence[Claim], now: dt.datetime) -> None:
        """Insert the free days; swap out a stale claim only if it is unchanged since it was read."""
        expires = now + self.lease
        rows = [(day, self.run_id, self.command, socket.gethostname(), os.getpid(), self.started_at, expires)
                for day in self.days]
        source = self.spark.createDataFrame(rows, CLAIMS_SCHEMA)
        swap = " OR ".join(
            f"(t.run_id = '{c.run_id}' AND t.expires_at = timestamp'{_aware(c.expires_at).isoformat()}')"
            for c in stale
        )
        mine = f"t.run_id = '{self.run_id}'"
        delta_io.merge_rows(source, self.path, on="t.event_date = s.event_date",
                            update_when=f"{mine} OR {swap}" if swap else mine)

    # -- holding and releasing ---------------------------------------------------------------

    def _start_heartbeat(self) -> None:
        self._heartbeat = threading.Thread(target=self._renew_loop, name="claim-heartbeat", daemon=True)
        self._heartbeat.start()

    def _renew_loop(self) -> None:
        interval = self.lease.total_seconds() / 4
        while not self._stop.wait(interval):
            try:
                self.renew()
            except Exception as exc:  # retried on the next beat; `lost` tells the run
                log.warning("could not renew the claims of run %s: %s", self.run_id, str(exc).splitlines()[0])

    def renew(self) -> None:
        """Push `expires_at` one lease ahead (an UPDATE of this run's rows; retried on conflicts)."""
        for _ in range(CONFLICT_RETRIES):
            expires = utc_now() + self.lease
            try:
                delta_io.update_rows(self.spark, self.path,
                                     f"expires_at = timestamp'{expires.isoformat()}'", self._own_rows())
            except Exception as exc:
                if _conflict(exc):
                    continue
                raise
            self.renewed_at = time.monotonic()
            return

    def _own_rows(self) -> str:
        return f"run_id = {delta_io.sql_string(self.run_id)}"

    @property
    def lost(self) -> bool:
        """True when the claims went a whole lease without renewal: another run may hold the days."""
        return time.monotonic() - self.renewed_at > self.lease.total_seconds()

    def check_held(self) -> None:
        """Before a commit: fail rather than write days another run may now hold."""
        held = self._read()
        if self.lost or len(held) != len(self.days) or any(c.run_id != self.run_id for c in held):
            raise ConcurrencyError(f"run {self.run_id} lost its claim on {self.days[0]}..{self.days[-1]} "
                                   f"(not renewed within {self.lease.total_seconds():.0f} s); nothing more written")

    def release(self) -> None:
        """Stop renewing and give the days back."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        self._release_own()

    def _release_own(self) -> None:
        for _ in range(CONFLICT_RETRIES):
            try:
                delta_io.delete_rows(self.spark, self.path, self._own_rows())
                return
            except Exception as exc:
                if not _conflict(exc):
                    raise
