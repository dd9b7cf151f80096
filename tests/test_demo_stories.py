"""End to end: the demo's month, run through the job, alerts every planted story as planted and
nothing else above `low`.

The archives are those of `smb-pipeline demo` (the shipped demo config, its six vendor formats,
the stories of smb_pipeline.demo.stories), with fewer random rows per day; the alerts are
read back with delta-rs, a second Delta reader.
"""

from __future__ import annotations

import datetime as dt

import pytest
from deltalake import DeltaTable

from smb_pipeline.cli.demo_commands import demo_run_config
from smb_pipeline.demo import stories as story
from smb_pipeline.demo.vendors import generate_vendor_archive
from smb_pipeline.run.pipeline import run_pipeline

FIRST = dt.date(2026, 10, 5)  # not the allowlist's reference month: its expiry date must move
ROWS_PER_DAY = 200
SEED = 7


def day(offset: int) -> dt.date:
    return FIRST + dt.timedelta(days=offset)


@pytest.fixture(scope="module")
def demo_month(spark, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo")
    config = demo_run_config(None, workdir, FIRST)
    for source in config.sources:
        generate_vendor_archive(source.path, source.format, story.DEMO_DAYS, ROWS_PER_DAY, SEED, FIRST, stories=True)
    result = run_pipeline(spark, config, FIRST, day(story.DEMO_DAYS - 1))
    alerts = DeltaTable(config.output.table_path("smb_alerts")).to_pyarrow_table().to_pylist()
    return result, alerts


ANY = object()


def _find(alerts, detection, src, dest=ANY, offset=None):
    """Alerts of `detection` from `src` (to `dest`, on day number `offset`, when given)."""
    return [a for a in alerts if a["detection"] == detection and a["src_ip"] == src
            and (dest is ANY or a["dest_ip"] == dest) and (offset is None or a["event_date"] == day(offset))]


def _one(alerts, detection, src, dest, offset):
    found = _find(alerts, detection, src, dest, offset)
    assert len(found) == 1, f"{detection} {src} -> {dest} on {day(offset)}: {found}"
    return found[0]


def test_scanner_fans_out_to_the_company_hosts(demo_month):
    _, alerts = demo_month
    alert = _one(alerts, "smb_fanout", story.SCANNER, None, story.SCAN_DAY)
    assert (alert["distinct_destinations"], alert["direction"], alert["suppressed"]) == (
        len(story.SCANNED_HOSTS), "inbound", False)
    assert alert["severity"] == "high"
    assert len(_find(alerts, "smb_fanout", story.SCANNER)) == 1


def test_intrusion_is_a_new_inbound_pair(demo_month):
    _, alerts = demo_month
    new = _one(alerts, "new_pair", story.INTRUDER, story.INTRUDED_SERVER, story.INTRUSION_DAY)
    seen = _one(alerts, "smb_inbound_allowed", story.INTRUDER, story.INTRUDED_SERVER, story.INTRUSION_DAY)
    assert {new["direction"], seen["direction"]} == {"inbound"}
    assert not new["suppressed"] and not seen["suppressed"]
    assert new["severity"] == seen["severity"] == "medium"


def test_workstation_talking_smb_to_the_internet_is_outbound(demo_month):
    _, alerts = demo_month
    alert = _one(alerts, "smb_outbound_allowed", story.WORKSTATION, story.WORKSTATION_PEER, story.OUTBOUND_DAY)
    assert (alert["direction"], alert["suppressed"], alert["severity"]) == ("outbound", False, "critical")
    assert len(_find(alerts, "smb_outbound_allowed", story.WORKSTATION)) == 1


def test_partner_backups_are_suppressed_until_their_entry_expires(demo_month):
    result, alerts = demo_month
    copies = _find(alerts, "smb_outbound_allowed", story.BACKUP_SERVER, story.PARTNER_HOST)
    backups = {a["event_date"]: a for a in copies}
    assert sorted(backups) == [day(n) for n in range(story.DEMO_DAYS)]
    for offset in range(story.DEMO_DAYS):
        alert = backups[day(offset)]
        hidden = offset <= story.PARTNER_EXPIRES_DAY
        expected = (hidden, story.PARTNER_ENTRY if hidden else None)
        assert (alert["suppressed"], alert["suppressed_by"]) == expected, offset
    assert (story.PARTNER_ENTRY, day(story.PARTNER_EXPIRES_DAY)) in result.alerts.expired


def test_backup_server_steady_high_volume_never_spikes(demo_month):
    _, alerts = demo_month
    copies = _find(alerts, "smb_outbound_allowed", story.BACKUP_SERVER, story.PARTNER_HOST)
    assert min(a["connection_count"] for a in copies) >= 1000
    assert _find(alerts, "volume_spike", story.BACKUP_SERVER) == []


def test_file_server_tenfold_burst_spikes(demo_month):
    _, alerts = demo_month
    spike = _one(alerts, "volume_spike", story.FILE_SERVER, None, story.BURST_DAY)
    assert spike["connection_count"] >= 10 * spike["baseline_median"] * 0.9
    assert (spike["suppressed"], spike["severity"]) == (False, "medium")
    assert len(_find(alerts, "volume_spike", story.FILE_SERVER)) == 1
    syncs = _find(alerts, "smb_outbound_allowed", story.FILE_SERVER, story.DR_SITE_HOST)
    assert len(syncs) == story.DEMO_DAYS and {a["suppressed_by"] for a in syncs} == {story.DR_ENTRY}


def _story_alerts() -> set[tuple]:
    """(day, detection, src, dest) of every unsuppressed alert the stories raise."""
    scan = {(day(story.SCAN_DAY), detection, story.SCANNER, host) for host in story.SCANNED_HOSTS
            for detection in ("smb_inbound_allowed", "new_pair")}
    # A scanner that appears from nowhere is also a volume spike of its own.
    scan |= {(day(story.SCAN_DAY), d, story.SCANNER, None) for d in ("smb_fanout", "volume_spike")}
    intrusion = {(day(story.INTRUSION_DAY), d, story.INTRUDER, story.INTRUDED_SERVER)
                 for d in ("smb_inbound_allowed", "new_pair")}
    outbound = {(day(story.OUTBOUND_DAY), d, story.WORKSTATION, story.WORKSTATION_PEER)
                for d in ("smb_outbound_allowed", "new_pair")}
    expired = {(day(n), "smb_outbound_allowed", story.BACKUP_SERVER, story.PARTNER_HOST)
               for n in range(story.PARTNER_EXPIRES_DAY + 1, story.DEMO_DAYS)}
    burst = {(day(story.BURST_DAY), "volume_spike", story.FILE_SERVER, None)}
    return scan | intrusion | outbound | expired | burst


def test_nothing_but_the_stories_is_above_low(demo_month):
    _, alerts = demo_month
    above_low = {(a["event_date"], a["detection"], a["src_ip"], a["dest_ip"]) for a in alerts
                 if a["severity"] != "low" and not a["suppressed"]}
    assert above_low == _story_alerts()
