"""The progress line's source over Spark Connect: the server's progress reports (no SparkContext)."""

from __future__ import annotations

from dataclasses import dataclass

from smb_pipeline.cli.progress import ConnectProgress, stage_counts, status_tracker


@dataclass
class _Stage:  # the fields of pyspark.sql.connect.shell.progress.StageInfo that are read
    num_tasks: int
    num_completed_tasks: int


class _ConnectSession:
    def __init__(self) -> None:
        self.handlers: list = []

    def registerProgressHandler(self, handler) -> None:  # noqa: N802 - pyspark's name
        self.handlers.append(handler)

    @property
    def sparkContext(self):  # noqa: N802 - pyspark's name
        raise AssertionError("a Spark Connect session has no SparkContext; progress must not ask for it")


_ConnectSession.__module__ = "pyspark.sql.connect.session"  # what status_tracker recognizes Connect by


def test_connect_progress_counts_the_running_operation_and_goes_idle_when_done():
    session = _ConnectSession()
    progress = ConnectProgress(session)
    assert session.handlers == [progress]
    assert stage_counts(progress) is None  # nothing ran yet

    progress([_Stage(8, 3), _Stage(4, 4)], inflight_tasks=2, operation_id="op-1", done=False)
    assert stage_counts(progress) == ("op-1", 7, 12)

    progress([_Stage(8, 8), _Stage(4, 4)], inflight_tasks=0, operation_id="op-1", done=True)
    assert stage_counts(progress) is None


def test_over_spark_connect_the_tracker_is_the_progress_handler_never_the_spark_context():
    session = _ConnectSession()
    tracker = status_tracker(session)
    assert isinstance(tracker, ConnectProgress) and session.handlers == [tracker]
    assert stage_counts(tracker) is None  # idle until the server reports
