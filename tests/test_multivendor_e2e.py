"""End to end over a mixed multi-vendor archive; expectations come from the generator's canonical events.

Each vendor archive is rendered from canonical demo events with the vendor's quirks
(start + end records, Built + Teardown, reply records, local times, Zeek states). The
expected pairs are computed here, in plain Python, from those canonical events.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections import Counter

import pytest

from smb_pipeline.config import config_from_dict
from smb_pipeline.demo.generate import COMPANY_SUBNETS
from smb_pipeline.demo.vendors import DEMO_TIMEZONES, generate_vendor_archives
from smb_pipeline.run.pipeline import run_pipeline
from smb_pipeline.run.staging import census, format_context, stage_sources
from smb_pipeline.sources.reader import read_source

FORMATS = ["cim", "panos", "fortigate", "cisco_asa", "aws_vpc_flow", "zeek_conn"]
FIRST_DAY = dt.date(2026, 9, 1)
DAYS = 2
NETWORKS = [ipaddress.ip_network(c) for c in COMPANY_SUBNETS]
APPS = {"smb", "ms-ds-smb", "netbios-ss"}


def _address(text):
    if text is None:
        return None
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", text.strip()):
        text = ".".join(str(int(o)) for o in text.strip().split("."))
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return address.ipv4_mapped if address.version == 6 and address.ipv4_mapped else address


def expected_connections(events, start, end):
    counts = Counter()
    for event in events:
        when = event["_time"]
        if when is None or not start <= when.date() <= end:
            continue
        if (event["action"] or "").lower() != "allowed":
            continue
        if event["dest_port"] not in (139, 445) and (event["app"] or "").lower() not in APPS:
            continue
        src, dest = _address(event["src_ip"]), _address(event["dest_ip"])
        if src is None or dest is None or any(src.version == n.version and src in n for n in NETWORKS):
            continue
        counts[(when.date(), str(src), str(dest))] += 1
    return counts


@pytest.fixture(scope="module")
def mixed_archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("vendors")
    truth = generate_vendor_archives(root / "archive", FORMATS, DAYS, 400, seed=21, first_day=FIRST_DAY)
    config = config_from_dict({
        "sources": [{"name": f"src-{fmt}", "format": fmt, "path": str(root / "archive" / fmt),
                     "timezone": DEMO_TIMEZONES.get(fmt, "UTC")} for fmt in FORMATS],
        "company_subnets": list(COMPANY_SUBNETS),
        "output": {"path": str(root / "lake")},
    })
    return truth, config, root


@pytest.fixture(scope="module")
def mixed_run(spark, mixed_archive):
    truth, config, root = mixed_archive
    end = FIRST_DAY + dt.timedelta(days=DAYS - 1)
    result = run_pipeline(spark, config, FIRST_DAY, end)
    pairs = spark.read.format("delta").load(str(root / "lake" / "smb_allowed_daily")).collect()
    return truth, result, pairs


def test_mixed_archive_pairs_match_expectations(mixed_run):
    truth, result, pairs = mixed_run
    expected = Counter()
    for events in truth.values():
        expected.update(expected_connections(events, result.start, result.end))
    got = {(row.event_date, row.src_ip, row.dest_ip): row.connection_count for row in pairs}
    assert got == dict(expected)
    assert len(got) > 10


def test_every_source_contributes_and_accounts_for_its_rows(mixed_run):
    _truth, result, pairs = mixed_run
    seen_sources = {source for row in pairs for source in row.sources}
    assert seen_sources == {f"src-{fmt}" for fmt in FORMATS}
    for counts in result.sources:
        assert counts.rows_read == counts.not_allowed_smb + counts.rejected + counts.excluded + counts.aggregated
        assert counts.rejected > 0, counts.source


def test_sessions_logged_twice_count_once(mixed_run):
    truth, result, _pairs = mixed_run
    by_source = {c.source: c for c in result.sources}
    # PAN-OS logs most sessions twice (start + end): more records aggregated than connections counted.
    panos_connections = sum(expected_connections(truth["panos"], result.start, result.end).values())
    assert by_source["src-panos"].aggregated > panos_connections


@pytest.mark.perf
@pytest.mark.parametrize("fmt", ["panos", "fortigate", "cisco_asa"])
def test_text_times_are_parsed_once_per_row(spark, mixed_archive, fmt):
    """A filter on the event day, pushed below the normalization, would copy the time parsing
    into the filter: three parses per row instead of one, for every row of the archive in
    the census."""
    _truth, config, _root = mixed_archive
    (source,) = [s for s in config.sources if s.format == fmt]
    archive = read_source(spark, source, FIRST_DAY, FIRST_DAY)
    context = format_context(archive, config)
    (group,) = archive.groups
    parse_once = archive.format.normalize(group.frame, group.fields, context, ()).select("event_time")

    def parses(frame) -> int:
        return frame._jdf.queryExecution().optimizedPlan().toString().count("gettimestamp(")

    assert parses(parse_once) > 0
    assert parses(census(archive, context, FIRST_DAY, FIRST_DAY)) == parses(parse_once)
    assert parses(stage_sources([archive], config, FIRST_DAY, FIRST_DAY).frame) == parses(parse_once)
