"""The demo's month with a story: deterministic SMB events planted into the generated days.

The random traffic of `smb_pipeline.demo.generate` has findings, but none a SOC would act on. These
stories are what the alerting layer exists for; each is planted on a fixed day of the demo's
month (an offset from its first day), with fixed addresses, in the canonical rows before they
are rendered, so every vendor archive of the demo expresses them alike:

* an Internet scanner touching `len(SCANNED_HOSTS)` company hosts on 445: smb_fanout;
* one inbound intrusion from a new source to one server: new_pair (and smb_inbound_allowed);
* one workstation talking SMB to the Internet: smb_outbound_allowed (and new_pair);
* a backup server sending a steady, high volume to a partner's backup range every day: the
  partner range is on the demo allowlist (suppressed) until its entry expires mid-month; the
  steady volume must never be a volume_spike;
* a file server that syncs a little to its DR site every day (allowlisted for the direction
  and novelty detections only) and bursts tenfold on one day: volume_spike.

tests/test_demo_stories.py checks that each is alerted as planted and nothing else above low.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from smb_pipeline.yaml_files import read_yaml_file

DEMO_DAYS = 28  # a month: novelty and baselines warm up after 7 covered days

SCANNER = "91.240.118.50"
SCANNED_HOSTS = tuple(f"10.20.2.{host}" for host in range(10, 32))  # 22 hosts, above fan-out's 20
SCAN_DAY = 9

INTRUDER = "194.26.29.113"
INTRUDED_SERVER = "10.20.3.25"
INTRUSION_DAY = 12

WORKSTATION = "10.31.7.42"
WORKSTATION_PEER = "51.15.99.20"
OUTBOUND_DAY = 16

BACKUP_SERVER = "10.30.0.10"
PARTNER_RANGE = "212.61.44.0/28"
PARTNER_HOST = "212.61.44.5"
PARTNER_ENTRY = "partner-backup"
PARTNER_EXPIRES_DAY = 14  # the entry's last day: from day 15 on, the backups alert again

FILE_SERVER = "10.20.1.40"
DR_SITE_HOST = "20.60.10.5"
DR_ENTRY = "fileserver-dr-sync"
BURST_DAY = 20
BURST_FACTOR = 10

# The shipped allowlist's dates are those of a month starting on this day; the demo moves them.
ALLOWLIST_REFERENCE_FIRST_DAY = dt.date(2026, 11, 1)


def _event(day: dt.date, index: int, count: int, src: str, dest: str) -> dict:
    """One allowed SMB connection on 445, spread over the working hours (08:00-18:00 UTC)."""
    start = dt.datetime.combine(day, dt.time(8), tzinfo=dt.timezone.utc)
    when = start + dt.timedelta(seconds=index * 36_000 // max(count, 1), microseconds=index * 7919 % 1_000_000)
    return {
        "_time": when, "src_ip": src, "dest_ip": dest, "src_port": 49152 + index % 16_000, "dest_port": 445,
        "transport": "tcp", "app": "smb", "action": "allowed", "bytes_in": 4096 + index, "bytes_out": 65_536,
        "dvc": "fw-edge-1", "rule": "allow-dmz", "session_id": None,
    }


def _connections(day: dt.date, src: str, dest: str, count: int) -> list[dict]:
    return [_event(day, index, count, src, dest) for index in range(count)]


def backup_connections(offset: int) -> int:
    """The backup server's connections per archive: high and steady (170..190 a day)."""
    return 170 + offset * 7 % 21


def file_server_connections(offset: int) -> int:
    """The file server's sync per archive: 12..14 a day, tenfold on BURST_DAY."""
    usual = 12 + offset % 3
    return usual * BURST_FACTOR if offset == BURST_DAY else usual


def story_events(day: dt.date, offset: int) -> list[dict]:
    """The planted canonical events of the demo month's day number `offset` (0 = first day)."""
    events = _connections(day, BACKUP_SERVER, PARTNER_HOST, backup_connections(offset))
    events += _connections(day, FILE_SERVER, DR_SITE_HOST, file_server_connections(offset))
    if offset == SCAN_DAY:
        for index, host in enumerate(SCANNED_HOSTS):
            events.append(_event(day, index, len(SCANNED_HOSTS), SCANNER, host))
    if offset == INTRUSION_DAY:
        events += _connections(day, INTRUDER, INTRUDED_SERVER, 3)
    if offset == OUTBOUND_DAY:
        events += _connections(day, WORKSTATION, WORKSTATION_PEER, 4)
    return events


def write_demo_allowlist(shipped: str | Path, target: Path, first_day: dt.date) -> Path:
    """Copy the shipped demo allowlist to `target` with its `expires` dates moved into the demo's
    month (they keep their offset from ALLOWLIST_REFERENCE_FIRST_DAY): a fixed date would fall
    outside a month that ends yesterday."""
    entries, _ = read_yaml_file(Path(shipped), "alerts.allowlist")
    entries = entries or []
    shift = first_day - ALLOWLIST_REFERENCE_FIRST_DAY
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("expires"), dt.date):
            entry["expires"] = entry["expires"] + shift
    header = (f"# Written by `smb-pipeline demo` from {shipped}:\n"
              f"# its expiry dates moved to the demo month starting {first_day}.\n")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + yaml.safe_dump(entries, sort_keys=False))
    return target
