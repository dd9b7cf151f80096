"""Company-subnet exclusion: each mode, edge CIDRs, overlaps, the flag, and the join strategy in the plan."""

from __future__ import annotations

import ipaddress

import pytest
from pyspark.sql import functions as F

from smb_pipeline.config import parse_cidr
from smb_pipeline.engine.codegen import end_codegen_stage
from smb_pipeline.model.columns import COMPANY_COLUMN
from smb_pipeline.transforms.ip import with_ip_hex
from smb_pipeline.transforms.subnets import choose_bucket_bits, with_company_flag

SUBNETS = [parse_cidr(c) for c in (
    "10.0.0.0/8", "10.20.0.0/16", "10.20.1.0/24",  # overlapping
    "192.0.2.7/32", "198.51.100.0/31", "172.16.0.0/12",
    "2001:db8::/32", "2001:db8:c0::/48", "fd00::/8", "2001:db8:ffff::1/128",
)]

ADDRESSES = [
    "10.0.0.0", "10.255.255.255", "11.0.0.0", "9.255.255.255", "10.20.1.200", "192.0.2.7", "192.0.2.8",
    "198.51.100.1", "198.51.100.2", "172.31.255.255", "172.32.0.0", "203.0.113.5",
    "2001:db8::1", "2001:db9::1", "2001:db8:ffff::1", "2001:db8:ffff::2", "fdff:ffff::1", "fe00::1",
    "::ffff:10.1.2.3", "::ffff:11.1.2.3", "::1",
]


def _in_company(address: str, networks) -> bool:
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    return any(parsed.version == n.version and parsed in n for n in networks)


def _events(spark, pairs):
    """Addresses with their hex columns, computed in a stage of their own as the job does after
    validation: otherwise the optimizer inlines the parsing into every join condition and the
    `both` plan's generated code is too large to compile (minutes of Janino, then interpreted)."""
    frame = spark.createDataFrame(pairs, "src_ip string, dest_ip string")
    return end_codegen_stage(with_ip_hex(with_ip_hex(frame, "src_ip", "src_ip_hex"), "dest_ip", "dest_ip_hex"))


def _kept(frame):
    return sorted((r.src_ip, r.dest_ip) for r in frame.select("src_ip", "dest_ip").collect())


def _outside_company(events, networks, mode):
    """The rows the pipeline keeps: those `with_company_flag` does not mark."""
    return with_company_flag(events, networks, mode).filter(~F.col(COMPANY_COLUMN)).drop(COMPANY_COLUMN)


@pytest.mark.parametrize(
    ("mode", "drop"),
    [
        ("source", lambda s, d: s),
        ("destination", lambda s, d: d),
        ("either", lambda s, d: s or d),
        ("both", lambda s, d: s and d),
    ],
)
def test_each_mode_matches_python_ipaddress(spark, mode, drop):
    pairs = [(s, d) for s in ADDRESSES for d in ("10.20.1.5", "203.0.113.9", "2001:db8::5", "2a00::1")]
    kept = _kept(_outside_company(_events(spark, pairs), SUBNETS, mode))
    expected = sorted((s, d) for s, d in pairs if not drop(_in_company(s, SUBNETS), _in_company(d, SUBNETS)))
    assert kept == expected


@pytest.mark.parametrize("cidrs", [["0.0.0.0/0"], ["::/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["1.2.3.4/32", "::1/128"]])
def test_extreme_prefix_lengths(spark, cidrs):
    networks = [parse_cidr(c) for c in cidrs]
    pairs = [(a, "203.0.113.9") for a in [*ADDRESSES, "1.2.3.4", "1.2.3.5", "255.255.255.255", "0.0.0.0"]]
    kept = _kept(_outside_company(_events(spark, pairs), networks, "source"))
    assert kept == sorted(p for p in pairs if not _in_company(p[0], networks))


def test_no_subnets_keeps_everything(spark):
    pairs = [("10.0.0.1", "10.0.0.2")]
    assert _kept(_outside_company(_events(spark, pairs), [], "either")) == pairs


def test_bucket_width_shrinks_for_short_prefixes():
    assert choose_bucket_bits([parse_cidr("10.0.0.0/8")], 4) == 16
    assert choose_bucket_bits([parse_cidr("2001:db8::/32")], 6) == 32
    assert choose_bucket_bits([parse_cidr("::/0")], 6) == 17
    assert choose_bucket_bits([parse_cidr("0.0.0.0/0"), parse_cidr("::/0")], 4) == 16


def test_the_flag_keeps_every_row_once_and_marks_company_traffic(spark):
    """Overlapping subnets (10/8, 10.20/16, 10.20.1/24) match a row once: the flag adds no row."""
    pairs = [("10.20.1.5", "10.20.1.6"), ("10.20.1.5", "203.0.113.9"), ("203.0.113.9", "10.0.0.1"),
             ("203.0.113.9", "2a00::1"), ("bad", "10.0.0.1")]
    flagged = with_company_flag(_events(spark, pairs), SUBNETS, "both").select("src_ip", "dest_ip", COMPANY_COLUMN)
    assert sorted(tuple(row) for row in flagged.collect()) == [
        ("10.20.1.5", "10.20.1.6", True),
        ("10.20.1.5", "203.0.113.9", False),
        ("203.0.113.9", "10.0.0.1", False),
        ("203.0.113.9", "2a00::1", False),
        ("bad", "10.0.0.1", False),
    ]


def test_the_flag_is_a_broadcast_hash_join_without_nested_loops(spark):
    kept = _outside_company(_events(spark, [("10.0.0.1", "1.1.1.1")]), SUBNETS, "both")
    plan = kept._jdf.queryExecution().executedPlan().toString()
    assert plan.count("BroadcastHashJoin") == 2
    assert "LeftOuter" in plan
    assert "NestedLoop" not in plan and "Cartesian" not in plan
    assert "PythonUDF" not in plan and "BatchEvalPython" not in plan
    # The index is a local relation: broadcasting it runs no Spark job and starts no Python worker.
    assert "LocalTableScan [family" in plan
