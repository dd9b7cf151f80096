"""The five detections on one inline pair table: each fires where planted and ignores its near misses.

One scenario, computed once (module fixture), keeps the Spark work small; each test compares
the whole frame of its detection's alerts with the expected rows.
"""

from __future__ import annotations

import datetime as dt
import statistics

import pytest

from smb_pipeline.alerts.compute import compute_alerts, plan_detections
from smb_pipeline.alerts.settings import AlertsConfig
from smb_pipeline.alerts.shape import source_days
from tests.frames import assert_frame_equal
from tests.plans import optimized_plan

D = dt.date(2026, 11, 30)
D2 = D - dt.timedelta(days=60)  # a day with only 6 covered days of history: warming up
T = dt.datetime(2026, 11, 30, 12, 0)
HEAVY = [10, 12, 9, 400, 11, 10, 800, 13, 9, 11, 10, 12, 9, 11, 10, 600, 12, 11, 10, 9, 13, 11, 10, 12, 9, 11, 10, 1000]
PAIR_DDL = ("event_date date, src_ip string, dest_ip string, connection_count bigint, first_seen timestamp, "
            "last_seen timestamp, dest_ports array<int>, direction string, src_label string, dest_label string")


def _days_before(day, first, last):
    return [day - dt.timedelta(days=n) for n in range(first, last + 1)]


def _pair(day, src, dest, n, direction):
    return (day, src, dest, n, T, T, [445], direction, None, "dc1" if dest.startswith("10.") else None)


def _current():
    rows = [
        _pair(D, "1.1.1.1", "10.0.0.1", 3, "inbound"),   # seen exactly lookback_days (35) before: not new
        _pair(D, "1.1.1.2", "10.0.0.1", 3, "inbound"),   # seen 36 days before: new
        _pair(D, "1.1.1.3", "10.0.0.1", 3, "inbound"),   # never seen: new
        _pair(D, "10.0.0.5", "2.2.2.2", 2, "outbound"),  # new, outbound
        _pair(D, "10.0.0.5", "10.0.0.6", 2, "internal"),  # seen the day before
        _pair(D, "3.3.3.3", "4.4.4.4", 1, "external"),   # new but external: not a new_pair direction
        _pair(D, "3.3.3.4", "192.168.1.1", 1, "unlisted_private"),
        _pair(D, "7.7.7.7", "30.0.0.1", 107, "external"),  # flat 100: MAD 0 -> 1, 107 > 106
        _pair(D, "8.8.8.8", "30.0.0.1", 106, "external"),  # flat 100: 106 is not above 106
        _pair(D, "9.9.9.9", "30.0.0.1", 300, "external"),  # heavy-tailed: far above its median
        _pair(D, "9.9.9.8", "30.0.0.1", 40, "external"),   # above its baseline, below min_connections
        _pair(D, "10.10.10.10", "30.0.0.1", 60, "external"),  # sparse: covered days without rows count 0
        _pair(D2, "11.11.11.11", "10.0.0.1", 500, "inbound"),  # too little history for novelty and spike
    ]
    rows += [_pair(D, "5.5.5.5", f"20.0.0.{n}", 1, "external") for n in range(1, 21)]  # 20 destinations
    rows += [_pair(D, "6.6.6.6", f"20.0.0.{n}", 1, "external") for n in range(1, 20)]  # 19
    return rows


def _history():
    rows = [(D - dt.timedelta(days=35), "1.1.1.1", "10.0.0.1", 1),
            (D - dt.timedelta(days=36), "1.1.1.2", "10.0.0.1", 1),
            (D - dt.timedelta(days=1), "10.0.0.5", "10.0.0.6", 1)]
    for offset, day in enumerate(_days_before(D, 1, 28)):
        rows += [(day, "7.7.7.7", "30.0.0.1", 100), (day, "8.8.8.8", "30.0.0.1", 100),
                 (day, "9.9.9.9", "30.0.0.1", HEAVY[offset]), (day, "9.9.9.8", "30.0.0.1", HEAVY[offset])]
        if offset % 3 == 0:
            rows.append((day, "10.10.10.10", "30.0.0.1", 100))
    return rows


@pytest.fixture(scope="module")
def scenario(spark):
    config = AlertsConfig()
    covered = set(_days_before(D, 1, 40)) | set(_days_before(D2, 1, 6))
    plan = plan_detections(config, "both", [D2, D], covered)
    current = spark.createDataFrame(_current(), PAIR_DDL)
    history = spark.createDataFrame(_history(), "event_date date, src_ip string, dest_ip string, "
                                                "connection_count bigint").unionByName(
        current.select("event_date", "src_ip", "dest_ip", "connection_count"))
    rows = compute_alerts(current, history, plan, config).collect()
    return plan, rows


def _of(rows, detection):
    return sorted((r.event_date, r.src_ip, r.dest_ip, r.connection_count, r.distinct_destinations, r.baseline_median,
                   r.baseline_mad) for r in rows if r.detection == detection)


def test_plan_names_warming_and_active_detections():
    plan = plan_detections(AlertsConfig(), "source", [D2, D], set(_days_before(D, 1, 40)) | set(_days_before(D2, 1, 6)))
    assert plan.active == ["smb_inbound_allowed", "new_pair", "smb_fanout", "volume_spike"]
    assert plan.inactive["smb_outbound_allowed"].startswith("inactive: exclude_company: source")
    assert plan.warming == {"new_pair": [D2], "volume_spike": [D2]}
    assert plan.novelty_warm == [D] and list(plan.spike_baselines) == [D]
    assert plan.spike_baselines[D] == sorted(_days_before(D, 1, 28))


def test_inbound_fires_on_every_inbound_pair_day_and_ignores_the_rest(scenario):
    _, rows = scenario
    assert _of(rows, "smb_inbound_allowed") == [
        (D2, "11.11.11.11", "10.0.0.1", 500, None, None, None),
        (D, "1.1.1.1", "10.0.0.1", 3, None, None, None),
        (D, "1.1.1.2", "10.0.0.1", 3, None, None, None),
        (D, "1.1.1.3", "10.0.0.1", 3, None, None, None),
    ]


def test_outbound_fires_on_company_to_internet_only(scenario):
    _, rows = scenario
    assert _of(rows, "smb_outbound_allowed") == [(D, "10.0.0.5", "2.2.2.2", 2, None, None, None)]


def test_new_pair_fires_after_the_lookback_and_not_while_warming_up(scenario):
    _, rows = scenario
    # 1.1.1.1 was seen exactly lookback_days before; 11.11.11.11 is new but its day has 6 days of history;
    # 3.3.3.3 -> 4.4.4.4 is new but external.
    assert _of(rows, "new_pair") == [
        (D, "1.1.1.2", "10.0.0.1", 3, None, None, None),
        (D, "1.1.1.3", "10.0.0.1", 3, None, None, None),
        (D, "10.0.0.5", "2.2.2.2", 2, None, None, None),
    ]


def test_fanout_fires_at_the_threshold_not_below(scenario):
    _, rows = scenario
    assert _of(rows, "smb_fanout") == [(D, "5.5.5.5", None, 20, 20, None, None)]


def test_volume_spike_robust_baseline(scenario):
    _, rows = scenario
    heavy_median = statistics.median(HEAVY)
    heavy_mad = statistics.median(abs(v - heavy_median) for v in HEAVY)
    assert _of(rows, "volume_spike") == sorted([
        (D, "7.7.7.7", None, 107, 1, 100.0, 1.0),        # zero MAD floored at 1
        (D, "9.9.9.9", None, 300, 1, heavy_median, heavy_mad),
        (D, "10.10.10.10", None, 60, 1, 0.0, 1.0),       # zero-filled covered days: median 0
    ])


def test_alert_columns_are_complete(scenario):
    _, rows = scenario
    fanout = next(r for r in rows if r.detection == "smb_fanout")
    assert fanout.reason == ("5.5.5.5 reached 20 distinct SMB destinations in one day (threshold 20): "
                             "a worm or a scanner.")
    assert fanout.mitre_techniques == ["T1046", "T1210", "T1021.002"]
    assert fanout.dest_ports == [445] and fanout.direction == "external" and fanout.suppressed is False
    inbound = next(r for r in rows if r.detection == "smb_inbound_allowed" and r.src_ip == "1.1.1.3")
    assert inbound.reason == ("The firewall allowed 3 SMB connection(s) from Internet address 1.1.1.3 to company "
                              "host 10.0.0.1 (dc1) on port(s) 445.")
    assert inbound.response.startswith("SMB from the Internet should never be allowed")
    assert len({r.alert_id for r in rows}) == len(rows)


def test_a_source_day_totals_its_destinations_with_sorted_ports_and_no_lambda(spark):
    """Ports sorted and de-duplicated, the direction kept only when every pair agrees, and no
    higher-order function (a lambda makes Spark interpret the projection)."""
    late = dt.datetime(2026, 11, 30, 18, 0)
    pairs = spark.createDataFrame([
        (D, "1.1.1.1", "10.0.0.1", 3, T, T, [445], "inbound", "scanner", None),
        (D, "1.1.1.1", "10.0.0.2", 4, T, late, [445, 139], "inbound", None, None),
        (D, "10.0.0.5", "10.0.0.6", 1, T, T, [445], "internal", None, None),
        (D, "10.0.0.5", "2.2.2.2", 2, T, T, [139], "outbound", None, None),
    ], PAIR_DDL)
    sources = source_days(pairs)
    assert_frame_equal(sources.select("src_ip", "connection_count", "distinct_destinations", "last_seen",
                                      "dest_ports", "direction", "src_label"),
                       spark.createDataFrame([("1.1.1.1", 7, 2, late, [139, 445], "inbound", "scanner"),
                                              ("10.0.0.5", 3, 2, T, [139, 445], None, None)],
                                             "src_ip string, connection_count bigint, distinct_destinations bigint, "
                                             "last_seen timestamp, dest_ports array<int>, direction string, "
                                             "src_label string"))
    assert "lambdafunction" not in optimized_plan(sources)
