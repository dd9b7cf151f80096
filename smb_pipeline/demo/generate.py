"""Deterministic demo archives: realistic firewall traffic with known SMB findings.

The same (days, rows per day, seed) always writes the same files, so a test can compute
its expectations from the files independently of the pipeline. Written with pyarrow:
generating a demo needs no Spark.

What a day holds, by design:
* mostly non-SMB traffic (web, DNS, mail, RDP), allowed and blocked;
* blocked SMB from the Internet (scanners), which never counts;
* allowed SMB from a few Internet hosts to a few internal servers: the true findings;
* allowed SMB between company subnets: the false positives the anti-join removes;
* IPv6 traffic, including an IPv6 finding and IPv4-mapped addresses;
* teardown records of allowed SMB sessions (never counted twice);
* late records: events just before midnight written into the next day's folder;
* a handful of malformed rows (bad IP, bad port, missing time) that must be rejected.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CIM_SCHEMA = pa.schema(
    [
        ("_time", pa.timestamp("us", tz="UTC")),
        ("src_ip", pa.string()),
        ("dest_ip", pa.string()),
        ("src_port", pa.int32()),
        ("dest_port", pa.int32()),
        ("transport", pa.string()),
        ("app", pa.string()),
        ("action", pa.string()),
        ("bytes_in", pa.int64()),
        ("bytes_out", pa.int64()),
        ("dvc", pa.string()),
        ("rule", pa.string()),
        ("session_id", pa.string()),
    ]
)

COMPANY_SUBNETS = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "198.51.100.0/24",
    "2001:db8:c0::/48",
)
INTERNAL_SERVERS = ("10.20.1.15", "10.20.1.16", "192.168.10.5", "2001:db8:c0:1::15")
INTERNET_ATTACKERS = ("203.0.113.66", "185.220.101.4", "45.155.205.233", "2a00:1450:4001:81b::2004")
SCANNERS = ("89.248.165.10", "162.142.125.7", "167.94.138.35")
DEVICES = ("fw-edge-1", "fw-edge-2", "fw-dc-1")
OTHER_SERVICES = ((443, "ssl"), (80, "web-browsing"), (53, "dns"), (25, "smtp"), (3389, "ms-rdp"), (22, "ssh"))


def _internal_ip(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 40)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _internet_ip(rng: random.Random) -> str:
    while True:
        first = rng.randint(11, 223)
        if first not in (100, 127, 169, 172, 192, 198):
            return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


class _DayWriter:
    """Collects one folder's rows; `emit` takes the event time and the CIM fields."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def emit(self, when: dt.datetime | None, src: str, dest: str, dport: int | None, app: str, action: str,
             rng: random.Random, *, transport: str = "tcp", session: str | None = None,
             bytes_in: int | None = None, bytes_out: int | None = None, sport: int | None = None) -> None:
        self.rows.append(
            {
                "_time": when,
                "src_ip": src,
                "dest_ip": dest,
                "src_port": sport if sport is not None else rng.randint(1024, 65535),
                "dest_port": dport,
                "transport": transport,
                "app": app,
                "action": action,
                "bytes_in": bytes_in if bytes_in is not None else rng.randint(0, 200_000),
                "bytes_out": bytes_out if bytes_out is not None else rng.randint(0, 50_000),
                "dvc": rng.choice(DEVICES),
                "rule": "allow-dmz" if action == "allowed" else "deny-all",
                "session_id": session,
            }
        )


def _moment(day: dt.date, rng: random.Random) -> dt.datetime:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
    return start + dt.timedelta(seconds=rng.randint(0, 86_399), microseconds=rng.randint(0, 999_999))


def _day_rows(day: dt.date, rows_per_day: int, rng: random.Random, session_counter: list[int]) -> _DayWriter:
    out = _DayWriter()
    smb_share = max(1, rows_per_day // 50)  # about 2% of traffic is SMB
    for _ in range(rows_per_day - 4 * smb_share - 8):
        port, app = rng.choice(OTHER_SERVICES)
        src = _internal_ip(rng) if rng.random() < 0.6 else _internet_ip(rng)
        action = "allowed" if rng.random() < 0.8 else "blocked"
        out.emit(_moment(day, rng), src, _internet_ip(rng), port, app, action, rng,
                 transport="udp" if port == 53 else "tcp")
    for _ in range(smb_share):  # scanners hitting 445, blocked
        out.emit(_moment(day, rng), rng.choice(SCANNERS), _internal_ip(rng), rng.choice((139, 445)), "smb",
                 rng.choice(("blocked", "Blocked")), rng)
    for _ in range(smb_share):  # internal SMB: the known false positives
        src = rng.choice((_internal_ip(rng), "192.168.10.20", "2001:db8:c0:2::9", "::ffff:10.9.8.7"))
        out.emit(_moment(day, rng), src, rng.choice(INTERNAL_SERVERS), 445, "smb", "allowed", rng)
    for _ in range(smb_share):  # NetBIOS name/datagram near misses, UDP 137/138
        out.emit(_moment(day, rng), _internet_ip(rng), rng.choice(INTERNAL_SERVERS), rng.choice((137, 138)),
                 "netbios-ns", "allowed", rng, transport="udp")
    for _ in range(smb_share):  # the findings: Internet -> internal SMB, allowed
        session_counter[0] += 1
        session = f"s{session_counter[0]}"
        src = rng.choice(INTERNET_ATTACKERS)
        dest = rng.choice(INTERNAL_SERVERS)
        port, app = rng.choice(((445, "smb"), (139, "netbios-ss"), (445, "ms-ds-smb"), (8445, "SMB")))
        when = _moment(day, rng)
        out.emit(when, src, dest, port, app, rng.choice(("allowed", "Allowed", "ALLOWED")), rng, session=session)
        if rng.random() < 0.5:  # its teardown, which must not count again
            out.emit(when + dt.timedelta(seconds=30), src, dest, port, app, "teardown", rng, session=session)
    # Malformed rows that look like allowed SMB, so they must be rejected with a reason.
    out.emit(_moment(day, rng), "999.1.1.1", INTERNAL_SERVERS[0], 445, "smb", "allowed", rng)
    out.emit(_moment(day, rng), INTERNET_ATTACKERS[0], "10.20.1.300", 445, "smb", "allowed", rng)
    out.emit(None, INTERNET_ATTACKERS[1], INTERNAL_SERVERS[1], 445, "smb", "allowed", rng)
    out.emit(_moment(day, rng), "2001:db8::g", INTERNAL_SERVERS[3], 445, "smb", "allowed", rng)
    # Equivalent spellings of one address must land in one pair.
    out.emit(_moment(day, rng), "203.000.113.066", INTERNAL_SERVERS[0], 445, "smb", "allowed", rng)
    out.emit(_moment(day, rng), "2A00:1450:4001:081B:0:0:0:2004", INTERNAL_SERVERS[3], 445, "smb", "allowed", rng)
    # A late record: event at 23:59:5x of the previous day, logged in this day's folder.
    late = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc) - dt.timedelta(seconds=rng.randint(1, 9))
    out.emit(late, INTERNET_ATTACKERS[2], INTERNAL_SERVERS[2], 445, "smb", "allowed", rng)
    out.emit(_moment(day, rng), INTERNET_ATTACKERS[2], INTERNAL_SERVERS[2], None, "smb", "allowed", rng)
    return out


Renderer = Callable[[dict, random.Random], list[dict]]
Planter = Callable[[dt.date, int], list[dict]]


def _as_cim(row: dict, rng: random.Random) -> list[dict]:
    return [row]


def write_archive(out: str | Path, schema: pa.Schema, render: Renderer, days: int, rows_per_day: int, seed: int,
                  first_day: dt.date, rng_key: str = "", plant: Planter | None = None) -> list[dict]:
    """Draw each day's demo events, render each into zero or more rows of a layout, and write
    `out/dt=YYYY-MM-DD/part-00000.parquet`. Returns the events the archive expresses (those
    rendered into at least one row), for tests to compute expectations from. `plant(day, offset)`
    adds fixed events to a day (the demo's stories, smb_pipeline.demo.stories)."""
    if days < 1 or rows_per_day < 100:
        raise ValueError("generate needs at least 1 day and 100 rows per day")
    rng = random.Random(f"{seed}{rng_key}")
    session_counter = [0]
    expressed = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        rows = []
        events = _day_rows(day, rows_per_day, rng, session_counter).rows
        for event in events + (plant(day, offset) if plant else []):
            rendered = render(event, rng)
            if rendered:
                expressed.append(event)
                rows.extend(rendered)
        rng.shuffle(rows)
        folder = Path(out) / f"dt={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(rows, schema=schema)
        pq.write_table(table, folder / "part-00000.parquet", row_group_size=max(10_000, rows_per_day // 4))
    return expressed


def generate_cim_archive(out: str | Path, days: int, rows_per_day: int, seed: int,
                         first_day: dt.date | None = None) -> list[dt.date]:
    """Write `days` folders of cim demo data under `out`; return the days (ending yesterday UTC by default)."""
    first = first_day or (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=days))
    write_archive(out, CIM_SCHEMA, _as_cim, days, rows_per_day, seed, first)
    return [first + dt.timedelta(days=offset) for offset in range(days)]
