"""Address classes and pair direction on inline pairs: company /32, IPv6, IPv4-mapped, special families."""

from __future__ import annotations

import ipaddress

import pytest

from smb_pipeline.alerts.classify import build_address_reference, with_direction
from smb_pipeline.alerts.special_ranges import load_special_ranges
from smb_pipeline.transforms.ip import with_ip_hex
from tests.frames import assert_frame_equal

COMPANY = [ipaddress.ip_network(n) for n in ("10.20.0.0/16", "10.20.5.0/24", "203.0.113.7/32", "2001:db8:c0::/48")]
LABELS = {"10.20.0.0/16": "dc1", "10.20.5.0/24": "dc1-files", "2001:db8:c0::/48": "v6-campus"}


@pytest.fixture(scope="module")
def reference(spark):
    return build_address_reference(spark, COMPANY, LABELS, load_special_ranges(None))


def _directions(spark, reference, pairs):
    frame = spark.createDataFrame(pairs, "src_ip string, dest_ip string, n int")
    rows = with_direction(frame, reference).orderBy("n").collect()
    return [(r.src_ip, r.dest_ip, r.direction, r.src_label, r.dest_label) for r in rows]


def test_direction_of_each_class_pair(spark, reference):
    pairs = [
        ("8.8.8.8", "10.20.1.1", 1),            # public -> company
        ("10.20.1.1", "8.8.8.8", 2),            # company -> public
        ("10.20.1.1", "10.20.5.9", 3),          # company -> company, most specific label wins
        ("8.8.8.8", "1.1.1.1", 4),              # public -> public
        ("8.8.8.8", "203.0.113.7", 5),          # a company /32 inside TEST-NET-3 is company
        ("8.8.8.8", "203.0.113.8", 6),          # its neighbour is special
        ("10.20.1.1", "192.168.1.1", 7),        # company -> unlisted RFC 1918
        ("2001:db8:c0::5", "2a00:1450::1", 8),  # IPv6 company -> public
        ("2a00:1450::1", "2001:db8:c0:1::5", 9),
        ("::ffff:10.20.1.1", "8.8.8.8", 10),    # IPv4-mapped judged as IPv4
        ("::ffff:8.8.8.8", "10.20.1.1", 11),    # mapped public is public, not the ::ffff:0:0/96 range
    ]
    assert _directions(spark, reference, pairs) == [
        ("8.8.8.8", "10.20.1.1", "inbound", None, "dc1"),
        ("10.20.1.1", "8.8.8.8", "outbound", "dc1", None),
        ("10.20.1.1", "10.20.5.9", "internal", "dc1", "dc1-files"),
        ("8.8.8.8", "1.1.1.1", "external", None, None),
        ("8.8.8.8", "203.0.113.7", "inbound", None, None),
        ("8.8.8.8", "203.0.113.8", "unlisted_private", None, None),
        ("10.20.1.1", "192.168.1.1", "unlisted_private", "dc1", None),
        ("2001:db8:c0::5", "2a00:1450::1", "outbound", "v6-campus", None),
        ("2a00:1450::1", "2001:db8:c0:1::5", "inbound", None, "v6-campus"),
        ("::ffff:10.20.1.1", "8.8.8.8", "outbound", "dc1", None),
        ("::ffff:8.8.8.8", "10.20.1.1", "inbound", None, "dc1"),
    ]


def test_keys_the_rows_carry_give_the_same_directions_and_are_dropped(spark, reference):
    """A run's pairs carry the addresses' keys from validation; classifying with them must give
    what parsing the addresses gives, and leave the table's columns only."""
    pairs = [("8.8.8.8", "10.20.1.1", 1), ("10.20.1.1", "10.20.5.9", 2), ("8.8.8.8", "203.0.113.8", 3),
             ("2001:db8:c0::5", "2a00:1450::1", 4), ("::ffff:10.20.1.1", "8.8.8.8", 5), ("fe80::1", "::1", 6)]
    frame = spark.createDataFrame(pairs, "src_ip string, dest_ip string, n int")
    keyed = with_ip_hex(with_ip_hex(frame, "src_ip", "src_ip_hex"), "dest_ip", "dest_ip_hex")
    with_keys = with_direction(keyed, reference, keys=("src_ip_hex", "dest_ip_hex"))
    assert with_keys.columns == ["src_ip", "dest_ip", "n", "direction", "src_label", "dest_label"]
    assert_frame_equal(with_keys, with_direction(frame, reference))


SPECIAL_FAMILIES = [
    "10.1.1.1", "172.16.0.1", "192.168.0.1", "100.64.0.1", "127.0.0.1", "169.254.1.1", "192.0.0.9", "198.18.0.1",
    "192.0.2.1", "198.51.100.1", "203.0.113.1", "224.0.0.251", "240.0.0.1", "255.255.255.255", "::1", "::",
    "64:ff9b::808:808", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "2001:db8::1", "::ffff:192.168.1.1",
]


def test_each_special_range_family_makes_the_pair_unlisted_private(spark, reference):
    pairs = [("8.8.8.8", address, n) for n, address in enumerate(SPECIAL_FAMILIES)]
    directions = {row[1]: row[2] for row in _directions(spark, reference, pairs)}
    assert directions == dict.fromkeys(SPECIAL_FAMILIES, "unlisted_private")


def test_without_company_subnets_everything_is_public_or_special(spark):
    reference = build_address_reference(spark, [], {}, load_special_ranges(None))
    assert _directions(spark, reference, [("8.8.8.8", "9.9.9.9", 1), ("8.8.8.8", "10.0.0.1", 2)]) == [
        ("8.8.8.8", "9.9.9.9", "external", None, None),
        ("8.8.8.8", "10.0.0.1", "unlisted_private", None, None),
    ]
