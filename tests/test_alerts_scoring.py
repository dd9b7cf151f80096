"""Scoring (the README's table), allowlist suppression (each key, expiry, scope) and alert ids."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress

from pyspark.sql import functions as F

from smb_pipeline.alerts.allowlist import AllowlistEntry
from smb_pipeline.alerts.schema import alert_id
from smb_pipeline.alerts.scoring import with_score
from smb_pipeline.alerts.settings import ScoringConfig
from smb_pipeline.alerts.suppression import with_suppression

D = dt.date(2026, 11, 15)


def test_scoring_follows_the_documented_table(spark):
    rows = [
        # detection, direction, is_new_pair, distinct_destinations, connection_count -> risk, severity
        ("smb_inbound_allowed", "inbound", None, None, 3, 40, "low"),          # 30 + 10
        ("smb_inbound_allowed", "inbound", True, None, 3, 65, "medium"),       # + novelty 25
        ("smb_inbound_allowed", "inbound", True, None, 5000, 80, "high"),      # + volume 15
        ("smb_outbound_allowed", "outbound", True, None, 2, 90, "critical"),   # 55 + 10 + 25
        ("new_pair", "internal", True, None, 2, 45, "low"),                    # no novelty bonus on itself
        ("new_pair", "inbound", True, None, 2, 55, "medium"),
        ("smb_fanout", "external", None, 20, 20, 60, "medium"),
        ("smb_fanout", "inbound", None, 250, 250, 85, "high"),                 # 60 + 10 + 15
        ("volume_spike", None, None, 1, 5000, 65, "medium"),                   # 50 + 15, no direction
        ("smb_fanout", "inbound", None, 250, 5000, 100, "critical"),           # 100 clipped
    ]
    frame = spark.createDataFrame(rows, "detection string, direction string, is_new_pair boolean, "
                                        "distinct_destinations bigint, connection_count bigint, "
                                        "expected_risk int, expected_severity string")
    scored = with_score(frame, ScoringConfig()).collect()
    assert [(r.risk_score, r.severity) for r in scored] == [(r[5], r[6]) for r in rows]
    custom = ScoringConfig(base={"smb_inbound_allowed": 95}, severity={"medium": 10, "high": 20, "critical": 96})
    first = with_score(frame.limit(1), custom).head()
    assert (first.risk_score, first.severity) == (100, "critical")


ENTRIES = (
    AllowlistEntry("partner-backup", "backup", "storage", src=ipaddress.ip_network("198.51.100.0/24"),
                   dest_ports=(445,), expires=D),
    AllowlistEntry("scanner-fanout", "scanner", "secops", src=ipaddress.ip_network("192.0.2.10/32"),
                   detections=("smb_fanout",)),
    AllowlistEntry("files-v6", "file server", "it", dest=ipaddress.ip_network("2001:db8:c0::/48")),
    AllowlistEntry("port-139", "legacy", "it", dest_ports=(139,)),
)


def test_allowlist_suppresses_by_each_key_with_expiry_and_scope(spark):
    rows = [
        # event_date, detection, src_ip, dest_ip, dest_ports -> suppressed_by
        (D, "smb_inbound_allowed", "198.51.100.7", "10.0.0.1", [445], "partner-backup"),        # src + ports
        (D + dt.timedelta(days=1), "smb_inbound_allowed", "198.51.100.7", "10.0.0.1", [445], None),  # expired
        (D, "smb_inbound_allowed", "198.51.100.7", "10.0.0.1", [139, 445], None),   # a port outside the list
        (D, "smb_fanout", "192.0.2.10", None, [445], "scanner-fanout"),            # in scope
        (D, "smb_inbound_allowed", "192.0.2.10", "10.0.0.1", [445], None),          # out of its scope
        (D, "new_pair", "8.8.8.8", "2001:db8:c0::5", [445], "files-v6"),            # dest, IPv6
        (D, "new_pair", "8.8.8.8", "2001:db8:c1::5", [445], None),
        (D, "volume_spike", "8.8.8.8", None, [139], "port-139"),                    # ports alone
        (D, "smb_inbound_allowed", "198.51.100.7", "10.0.0.1", [139], "port-139"),  # the first match is named
    ]
    frame = spark.createDataFrame(rows, "event_date date, detection string, src_ip string, dest_ip string, "
                                        "dest_ports array<int>, expected string")
    result = with_suppression(frame, ENTRIES)
    assert result.columns == [*frame.columns, "suppressed_by", "suppressed"]
    assert [(r.suppressed_by, r.suppressed) for r in result.collect()] == [(r[5], r[5] is not None) for r in rows]
    assert with_suppression(frame, ()).filter("suppressed").count() == 0


def test_alert_id_is_the_sha256_of_day_detection_and_pair(spark):
    frame = spark.createDataFrame([(D, "new_pair", "8.8.8.8", "10.0.0.1"), (D, "smb_fanout", "8.8.8.8", None)],
                                  "event_date date, detection string, src_ip string, dest_ip string")
    ids = [r[0] for r in frame.select(alert_id(F.col("event_date"), F.col("detection"), F.col("src_ip"),
                                                F.col("dest_ip"))).collect()]
    assert ids == [hashlib.sha256(b"2026-11-15|new_pair|8.8.8.8|10.0.0.1").hexdigest(),
                   hashlib.sha256(b"2026-11-15|smb_fanout|8.8.8.8|").hexdigest()]
