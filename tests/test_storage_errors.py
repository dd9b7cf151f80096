"""Telling Spark's and Delta's errors apart by their messages: a session without Delta, a path with
no table, a lost commit race. The messages are those Spark 4 and Delta 4 print."""

from __future__ import annotations

import pytest

from smb_pipeline.storage.delta_io import is_absent, is_concurrent_modification, is_delta_missing

NO_EXTENSION_HISTORY_LIMIT = """
[PARSE_SYNTAX_ERROR] Syntax error at or near 'LIMIT'. SQLSTATE: 42601 (line 1, pos 35)

== SQL ==
DESCRIBE HISTORY delta.`/tmp/nope` LIMIT 1
-----------------------------------^^^
"""
NO_EXTENSION_HISTORY = (
    "[TABLE_OR_VIEW_NOT_FOUND] The table or view `HISTORY` cannot be found. Verify the spelling and "
    "correctness of the schema and catalog. SQLSTATE: 42P01; line 1 pos 9;\n"
    "'DescribeColumn 'delta./tmp/nope, false, [info_name#0, info_value#1]\n"
    "+- 'UnresolvedTableOrView [HISTORY], DESCRIBE TABLE, true")
NO_EXTENSION_DETAIL = NO_EXTENSION_HISTORY.replace("HISTORY", "DETAIL")
NO_CATALOG_JAR = ("[CATALOG_PLUGIN_CLASS_NOT_FOUND] Cannot find catalog plugin class for catalog 'spark_catalog': "
                  "org.apache.spark.sql.delta.catalog.DeltaCatalog.")
NO_DATA_SOURCE = ("[DATA_SOURCE_NOT_FOUND] Failed to find the data source: delta. Make sure the provider name "
                  "is correct and the package is properly registered and compatible with your Spark version.")
# Someone else's syntax error near LIMIT is not a missing Delta.
OTHER_PARSE_ERROR = """
[PARSE_SYNTAX_ERROR] Syntax error at or near 'LIMIT'. SQLSTATE: 42601 (line 1, pos 20)

== SQL ==
SELECT * FROM pairs LIMIT LIMIT 1
"""
NOT_A_TABLE = "[DELTA_MISSING_DELTA_TABLE] `/tmp/lake/smb_alerts` is not a Delta table."
LOST_RACE = ("[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: Files were added to partition "
             "[event_date=2026-11-30] by a concurrent update. Please try the operation again.")


@pytest.mark.parametrize("message", [NO_EXTENSION_HISTORY_LIMIT, NO_EXTENSION_HISTORY, NO_EXTENSION_DETAIL,
                                     NO_CATALOG_JAR, NO_DATA_SOURCE])
def test_a_session_without_delta_is_recognised(message):
    assert is_delta_missing(Exception(message))


@pytest.mark.parametrize("message", [OTHER_PARSE_ERROR, NOT_A_TABLE, LOST_RACE,
                                     "[TABLE_OR_VIEW_NOT_FOUND] The table or view `pairs` cannot be found."])
def test_other_errors_are_not_taken_for_a_missing_delta(message):
    assert not is_delta_missing(Exception(message))


def test_a_path_without_a_table_and_a_lost_race_are_told_apart():
    assert is_absent(Exception(NOT_A_TABLE)) and not is_concurrent_modification(Exception(NOT_A_TABLE))
    assert is_concurrent_modification(Exception(LOST_RACE)) and not is_absent(Exception(LOST_RACE))
