"""The settings every session the job builds carries, whatever the caller passes."""

from __future__ import annotations

import pytest

from smb_pipeline.engine.session import remote_session_builder


def test_built_session_keeps_utc_days_and_skips_partition_pruning_analysis(spark):
    # Dynamic partition pruning cannot help the job's joins (addresses against small indexes)
    # and cost seconds of optimization per plan; a run's ~100 generated classes must all stay
    # cached (the `perf` suite checks that a rerun compiles none); days must be UTC days.
    assert spark.conf.get("spark.sql.optimizer.dynamicPartitionPruning.enabled") == "false"
    assert spark.conf.get("spark.sql.codegen.cache.maxEntries") == "1000"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


@pytest.mark.parametrize(("key", "value"), [("spark.sql.optimizer.dynamicPartitionPruning.enabled", "false"),
                                          ("spark.sql.session.timeZone", "UTC")])
def test_connect_session_carries_the_same_settings(key, value):
    builder = remote_session_builder("sc://127.0.0.1:1")
    assert builder._options[key] == value  # the builder's settings, read before connecting: no server needed
