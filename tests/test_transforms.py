"""The transforms on inline rows: allowed/SMB filter, validation, aggregation, cim normalization."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F

from smb_pipeline.formats.base import FormatContext
from smb_pipeline.formats.cim import CIM
from smb_pipeline.model.dates import utc_date
from smb_pipeline.model.schemas import PAIRS_SCHEMA, REJECTS_SCHEMA
from smb_pipeline.transforms.aggregate import aggregate_daily_pairs, app_elements
from smb_pipeline.transforms.events import rejected_keys, rejects_table
from smb_pipeline.transforms.smb_filter import is_allowed_smb
from smb_pipeline.transforms.validate import with_validated_fields
from tests.frames import assert_frame_equal
from tests.plans import optimized_plan

UTC = dt.timezone.utc
PORTS = (139, 445)
APPS = ("ms-ds-smb", "netbios-ss", "smb")


def test_allowed_smb_predicate_fires_and_ignores(spark):
    rows = [
        # action, session_key, dest_port, app, expected
        ("allowed", None, 445, None, True),
        ("allowed", None, 139, "netbios-ss", True),
        ("allowed", None, 8445, "SMB", True),  # by app, case-insensitive
        ("allowed", None, None, "gssapi,smb,krb", True),  # comma list (Zeek service)
        ("blocked", None, 445, "smb", False),
        ("teardown", None, 445, "smb", False),  # teardown of a session counted when allowed
        ("teardown", "fw1|77", 445, "smb", True),  # end record of a twice-logged session: counted once later
        ("allowed", None, 137, "netbios-ns", False),  # UDP 137/138 are near misses
        ("allowed", None, 138, None, False),
        ("allowed", None, 443, "ssl", False),
        (None, None, 445, "smb", False),
        ("allowed", None, None, None, False),
    ]
    frame = spark.createDataFrame(
        rows, "action string, session_key string, dest_port int, app string, expected boolean"
    )
    got = frame.withColumn(
        "expected", is_allowed_smb(F.col("action"), F.col("session_key"), F.col("dest_port"), F.col("app"), PORTS, APPS)
    )
    assert_frame_equal(got, frame)


def _canonical(spark, rows):
    return spark.createDataFrame(
        rows, "event_time timestamp, src_ip string, dest_ip string, src_port string, dest_port string"
    )


def test_validation_canonicalizes_and_gives_reasons(spark):
    t = dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    rows = [
        (t, "203.000.113.066", "2001:DB8::0:1", "51000", "445"),
        (t, "::ffff:10.1.2.3", "10.0.0.5", None, "445"),
        (None, "1.1.1.1", "2.2.2.2", "1", "445"),
        (t, "999.1.1.1", "2.2.2.2", "1", "445"),
        (t, "1.1.1.1", "host.example", "1", "445"),
        (t, "1.1.1.1", "2.2.2.2", "-1", "445"),
        (t, "1.1.1.1", "2.2.2.2", "1", "70000"),
        (t, "1.1.1.1", "2.2.2.2", "1", "44 5"),
    ]
    result = with_validated_fields(_canonical(spark, rows)).select(
        "src_ip", "dest_ip", "src_port", "dest_port", "reject_reason", "reject_detail")
    expected = spark.createDataFrame([
        ("203.0.113.66", "2001:db8::1", 51000, 445, None, None),
        ("10.1.2.3", "10.0.0.5", None, 445, None, None),
        ("1.1.1.1", "2.2.2.2", 1, 445, "invalid_time", "event time is missing or not parseable"),
        (None, "2.2.2.2", 1, 445, "invalid_src_ip", 'src_ip {"v":"999.1.1.1"} is not valid'),
        ("1.1.1.1", None, 1, 445, "invalid_dest_ip", 'dest_ip {"v":"host.example"} is not valid'),
        ("1.1.1.1", "2.2.2.2", None, 445, "invalid_src_port", 'src_port {"v":"-1"} is not valid'),
        ("1.1.1.1", "2.2.2.2", 1, None, "invalid_dest_port", 'dest_port {"v":"70000"} is not valid'),
        ("1.1.1.1", "2.2.2.2", 1, None, "invalid_dest_port", 'dest_port {"v":"44 5"} is not valid'),
    ], "src_ip string, dest_ip string, src_port int, dest_port int, reject_reason string, reject_detail string")
    assert_frame_equal(result, expected, ordered=True)


def _events(spark, rows):
    return spark.createDataFrame(
        rows,
        "event_date date, src_ip string, dest_ip string, event_time timestamp, bytes_in bigint, bytes_out bigint, "
        "dest_port int, app string, source string, dvc string, session_key string",
    )


def test_aggregation_per_day_and_pair(spark):
    day = dt.date(2026, 11, 27)
    t1 = dt.datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    t2 = dt.datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
    rows = [
        (day, "203.0.113.5", "10.0.0.5", t1, 100, 10, 445, "SMB", "fw-a", "dev1", None),
        # a comma list (Zeek's service) contributes its elements
        (day, "203.0.113.5", "10.0.0.5", t2, None, 5, 139, "netbios-ss, GSSAPI,smb", "fw-b", "dev2", None),
        # one session logged twice: start (no bytes) and end (bytes) count once
        (day, "203.0.113.5", "10.0.0.5", t1, None, None, 445, "smb", "fw-a", "dev1", "dev1|9"),
        (day, "203.0.113.5", "10.0.0.5", t2, 7, 3, 445, "smb", "fw-a", "dev1", "dev1|9"),
        (day + dt.timedelta(days=1), "203.0.113.5", "10.0.0.5", t2, 1, 1, 445, None, "fw-a", None, None),
    ]
    pairs = aggregate_daily_pairs(_events(spark, rows))
    assert [(f.name, f.dataType) for f in pairs.schema] == [(f.name, f.dataType) for f in PAIRS_SCHEMA]
    first, second = sorted(pairs.collect(), key=lambda r: r.event_date)
    assert first.connection_count == 3
    assert first.event_count == 4
    assert (first.first_seen, first.last_seen) == (t1.replace(tzinfo=None), t2.replace(tzinfo=None))
    assert (first.bytes_in, first.bytes_out) == (107, 18)
    assert first.dest_ports == [139, 445]
    assert first.apps == ["gssapi", "netbios-ss", "smb"]
    assert first.sources == ["fw-a", "fw-b"]
    assert first.devices == ["dev1", "dev2"]
    assert second.connection_count == 1 and second.apps == [] and second.devices == ["fw-a"]
    assert first.pair_id != second.pair_id and len(first.pair_id) == 64


def test_app_elements_are_lower_case_names_without_empty_ones(spark):
    apps = spark.createDataFrame([(" SMB , ,gssapi,",), (",",), ("",), (None,)], "app string")
    elements = [row.elements for row in apps.select(app_elements(F.col("app")).alias("elements")).collect()]
    assert elements == [["smb", "gssapi"], [], [], None]


def test_aggregation_has_no_higher_order_function(spark):
    """A lambda (`filter`, `transform`, `array_sort`) in the aggregation makes Spark interpret
    its projections instead of generating code for them."""
    day, t1 = dt.date(2026, 11, 27), dt.datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    rows = [(day, "203.0.113.5", "10.0.0.5", t1, 1, 1, 445, "smb,gssapi", "fw-a", "dev1", None)]
    plan = optimized_plan(aggregate_daily_pairs(_events(spark, rows)))
    assert "collect_set" in plan and "lambdafunction" not in plan


def test_aggregation_carries_columns_of_the_pair_after_the_table_columns(spark):
    day = dt.date(2026, 11, 27)
    t1 = dt.datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    rows = [(day, "203.0.113.5", "10.0.0.5", t1, 1, 1, 445, "smb", "fw-a", None, None)] * 2
    events = _events(spark, rows).withColumn("src_ip_hex", F.lit("00000000000000000000ffffcb007105"))
    pairs = aggregate_daily_pairs(events, carry=("src_ip_hex",))
    assert pairs.columns == [*PAIRS_SCHEMA.fieldNames(), "src_ip_hex"]
    assert_frame_equal(pairs.drop("src_ip_hex"), aggregate_daily_pairs(_events(spark, rows)))
    assert [row.src_ip_hex for row in pairs.collect()] == ["00000000000000000000ffffcb007105"]


def test_cim_normalization_of_epoch_time_and_string_ports(spark):
    frame = spark.createDataFrame(
        [(1795766400.5, "203.0.113.5", "10.0.0.5", "51000", "445", "TCP", "SMB", "Allowed", "edge", "r1")],
        "_time double, src_ip string, dest_ip string, src_port string, dest_port string, transport string, "
        "app string, action string, dvc string, rule string",
    )
    fields = CIM.resolve(frame.schema, "p", {}, "inline")
    context = FormatContext(source="p", smb_ports=PORTS, smb_apps=APPS)
    row = CIM.normalize(frame.filter(CIM.prefilter(fields, context)), fields, context, ()).collect()[0]
    assert row.event_time == dt.datetime(2026, 11, 27, 8, 0, 0, 500000)
    assert (row.action, row.vendor_action, row.app, row.transport) == ("allowed", "Allowed", "smb", "tcp")
    assert (row.dest_port, row.bytes_in, row.session_id, row.session_key) == ("445", None, None, None)


def test_utc_date_is_the_utc_day_of_any_timestamp(spark):
    """The arithmetic day equals Python's UTC date, at midnight edges, before 1970 and far ahead,
    whatever the session zone (to_date would follow it)."""
    micros = [0, -1, 1, 86_399_999_999, 86_400_000_000, -86_400_000_000, -86_400_000_001,
              1_767_571_199_999_999, 1_767_571_200_000_000, -62_135_596_800_000_000, 253_402_300_799_999_999]
    frame = spark.createDataFrame([(m,) for m in micros], "m long").select(
        "m", utc_date(F.timestamp_micros("m")).alias("day"))
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        days = {row.m: row.day for row in frame.collect()}
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)
    epoch = dt.date(1970, 1, 1)
    assert days == {m: epoch + dt.timedelta(days=m // 86_400_000_000) for m in micros}
    assert spark.range(1).select(utc_date(F.lit(None).cast("timestamp"))).first()[0] is None


def test_rejects_take_each_rejected_rows_own_raw_row_and_keep_rows_without_one(spark):
    staged = spark.createDataFrame(
        [
            # source, _file, _row_index, status, event_date, reject_reason, reject_detail
            ("fw", "f1", 0, "rejected", dt.date(2026, 1, 1), "bad_ip", "src_ip: 999.1.1.1"),
            ("fw", "f1", 1, "allowed_smb", dt.date(2026, 1, 1), None, None),
            ("fw", "f2", 0, "rejected", dt.date(2026, 1, 2), "no_time", "_time: null"),  # its raw row is missing
            ("other", "f1", 0, "rejected", None, "no_time", "_time: null"),  # same file and row, other source
        ],
        "source string, _file string, _row_index long, status string, event_date date, reject_reason string, "
        "reject_detail string",
    )
    raw = spark.createDataFrame(
        [("fw", "f1", 0, '{"a":1}'), ("fw", "f1", 1, '{"a":2}'), ("other", "f1", 0, '{"b":1}')],
        "source string, _file string, _row_index long, _raw string",
    )
    assert sorted(rejected_keys(staged).collect()) == [("fw", "f1", 0), ("fw", "f2", 0), ("other", "f1", 0)]
    expected = spark.createDataFrame(
        [
            (dt.date(2026, 1, 1), "fw", "bad_ip", '{"a":1}', "src_ip: 999.1.1.1", "f1"),
            (dt.date(2026, 1, 2), "fw", "no_time", None, "_time: null", "f2"),
            (None, "other", "no_time", '{"b":1}', "_time: null", "f1"),
        ],
        REJECTS_SCHEMA,
    )
    assert_frame_equal(rejects_table(staged, raw), expected)
    assert rejects_table(staged, None).filter(F.col("raw").isNotNull()).count() == 0
