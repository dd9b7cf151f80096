"""Demo archives in vendor layouts: the demo's traffic as PAN-OS, FortiGate, ASA, VPC and Zeek logs.

The traffic of each source is drawn like the cim demo (`generate._day_rows`) and then
written in the vendor's own fields, with the vendor's quirks:

* PAN-OS: start and end records of one session (start logging on), device-local times;
* FortiGate: `start` + `close` records of one session, local date/time with a `tz` offset,
  `eventtime` in nanoseconds on some rows (the unit changed between versions);
* Cisco ASA: syslog text, Built + Teardown lines, outbound lines naming the server first;
* AWS VPC: reply records (source port 445 back to the client), NODATA windows;
* Zeek: passive sensor, connection states (S0/REJ are not established), service lists.

`generate_vendor_archives` also returns the canonical events each archive expresses,
so a test can compute what the pipeline should find without running it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from smb_pipeline.demo.generate import CIM_SCHEMA, write_archive
from smb_pipeline.demo.stories import story_events

Row = dict
Renderer = Callable[[Row, random.Random, "_Session"], list[Row]]

DEMO_TIMEZONES = {"panos": "America/New_York", "fortigate": "America/Chicago", "cisco_asa": "Europe/Berlin"}
SMB_PORTS = (139, 445)


class _Session:
    """Hands out per-archive session / connection ids. Each format numbers from its own base:
    the demo's vendors share device names, and a session is keyed by device and id, so equal
    ids in two archives would merge two sessions into one."""

    def __init__(self, base: int = 1000) -> None:
        self.last = base

    def next(self) -> int:
        self.last += 1
        return self.last


def _allowed(row: Row) -> bool:
    return (row["action"] or "").lower() == "allowed"


def _local(when: dt.datetime | None, zone: str) -> dt.datetime | None:
    return when.astimezone(ZoneInfo(zone)) if when is not None else None


def _end_of_session(when: dt.datetime) -> dt.datetime:
    """A session end 30 s later, kept inside the same UTC day (a session counts per day)."""
    midnight = dt.datetime.combine(when.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    return min(when + dt.timedelta(seconds=30), midnight - dt.timedelta(microseconds=1))


# --- PAN-OS -----------------------------------------------------------------------------------

PANOS_SCHEMA = pa.schema([
    ("time_generated", pa.string()), ("receive_time", pa.string()), ("serial", pa.string()),
    ("device_name", pa.string()), ("subtype", pa.string()), ("src", pa.string()), ("dst", pa.string()),
    ("sport", pa.int32()), ("dport", pa.int32()), ("proto", pa.string()), ("app", pa.string()),
    ("action", pa.string()), ("rule", pa.string()), ("sessionid", pa.int64()), ("bytes_sent", pa.int64()),
    ("bytes_received", pa.int64()), ("session_end_reason", pa.string()),
])
PANOS_SERIALS = {"fw-edge-1": "007901000011", "fw-edge-2": "007901000012"}
PANOS_APPS = {"smb": "ms-ds-smbv2", "ms-ds-smb": "ms-ds-smb", "netbios-ss": "netbios-ss", "SMB": "ms-ds-smbv3",
              "netbios-ns": "netbios-ns"}


def _panos_time(when: dt.datetime | None) -> str | None:
    local = _local(when, DEMO_TIMEZONES["panos"])
    return local.strftime("%Y/%m/%d %H:%M:%S") if local else None


def render_panos(row: Row, rng: random.Random, sessions: _Session) -> list[Row]:
    if row["action"] == "teardown":
        return []
    base = {
        "serial": PANOS_SERIALS.get(row["dvc"], "007901000013"), "device_name": row["dvc"], "src": row["src_ip"],
        "dst": row["dest_ip"], "sport": row["src_port"], "dport": row["dest_port"], "proto": row["transport"],
        "app": PANOS_APPS.get(row["app"], row["app"]), "rule": row["rule"], "sessionid": sessions.next(),
    }
    if not _allowed(row):
        action = rng.choice(("deny", "drop", "reset-both"))
        return [{**base, "time_generated": _panos_time(row["_time"]), "receive_time": _panos_time(row["_time"]),
                 "subtype": "drop" if action == "drop" else "deny", "action": action, "bytes_sent": 74,
                 "bytes_received": 0, "session_end_reason": "policy-deny"}]
    start = {**base, "time_generated": _panos_time(row["_time"]), "receive_time": _panos_time(row["_time"]),
             "subtype": "start", "action": "allow", "bytes_sent": 180, "bytes_received": 0,
             "session_end_reason": "n/a"}
    end_time = _end_of_session(row["_time"]) if row["_time"] else None
    end = {**base, "time_generated": _panos_time(end_time), "receive_time": _panos_time(end_time),
           "subtype": "end", "action": "allow", "bytes_sent": row["bytes_out"],
           "bytes_received": row["bytes_in"], "session_end_reason": "tcp-fin"}
    return [start, end] if row["_time"] and rng.random() < 0.7 else [end]


# --- FortiGate --------------------------------------------------------------------------------

FORTIGATE_SCHEMA = pa.schema([
    ("date", pa.string()), ("time", pa.string()), ("tz", pa.string()), ("eventtime", pa.int64()),
    ("devname", pa.string()), ("vd", pa.string()), ("srcip", pa.string()), ("dstip", pa.string()),
    ("srcport", pa.int32()), ("dstport", pa.int32()), ("proto", pa.int32()), ("service", pa.string()),
    ("app", pa.string()), ("action", pa.string()), ("policyid", pa.int32()), ("policyname", pa.string()),
    ("sessionid", pa.int64()), ("sentbyte", pa.int64()), ("rcvdbyte", pa.int64()),
])
FORTIGATE_SERVICES = {445: "SMB", 139: "SAMBA", 443: "HTTPS", 80: "HTTP", 53: "DNS", 25: "SMTP", 3389: "RDP",
                      22: "SSH", 137: "NetBIOS-NS", 138: "NetBIOS-DGM"}


def _fortigate_clock(when: dt.datetime | None, rng: random.Random) -> dict:
    if when is None:
        return {"date": None, "time": None, "tz": None, "eventtime": None}
    local = when.astimezone(ZoneInfo(DEMO_TIMEZONES["fortigate"]))
    offset = local.strftime("%z")
    clock: dict[str, str | int | None] = {"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M:%S"),
                                          "tz": offset, "eventtime": None}
    if rng.random() < 0.5:  # FortiOS 6.2+ logs eventtime in nanoseconds
        clock["eventtime"] = int(when.timestamp()) * 1_000_000_000
    return clock


def render_fortigate(row: Row, rng: random.Random, sessions: _Session) -> list[Row]:
    if row["action"] == "teardown" or row["dest_port"] is None:
        return []
    base = {
        "devname": row["dvc"], "vd": "root", "srcip": row["src_ip"], "dstip": row["dest_ip"],
        "srcport": row["src_port"], "dstport": row["dest_port"], "proto": 17 if row["transport"] == "udp" else 6,
        "service": FORTIGATE_SERVICES.get(row["dest_port"], f"tcp/{row['dest_port']}"),
        "app": "SMB" if row["app"] == "SMB" else None, "policyid": 12, "policyname": row["rule"],
        "sessionid": sessions.next(),
    }
    if not _allowed(row):
        return [{**base, **_fortigate_clock(row["_time"], rng), "action": "deny", "sentbyte": 0, "rcvdbyte": 0}]
    close = {**base, **_fortigate_clock(_end_of_session(row["_time"]) if row["_time"] else None, rng),
             "action": rng.choice(("close", "timeout", "server-rst")), "sentbyte": row["bytes_out"],
             "rcvdbyte": row["bytes_in"]}
    if row["_time"] is None or rng.random() < 0.4:
        return [close]
    start = {**base, **_fortigate_clock(row["_time"], rng), "action": "start", "sentbyte": 0, "rcvdbyte": 0}
    return [start, close]


# --- Cisco ASA (syslog text) ------------------------------------------------------------------

ASA_SCHEMA = pa.schema([("timestamp", pa.string()), ("host", pa.string()), ("message", pa.string())])


def _asa_time(when: dt.datetime | None) -> str | None:
    local = _local(when, DEMO_TIMEZONES["cisco_asa"])
    return local.strftime("%b %d %Y %H:%M:%S") if local else None


def _is_internal(address: str) -> bool:
    return address.startswith(("10.", "192.168.", "2001:db8:c0"))


def render_cisco_asa(row: Row, rng: random.Random, sessions: _Session) -> list[Row]:
    port = row["dest_port"]
    if row["action"] == "teardown" or port is None or (row["app"] == "SMB" and port not in SMB_PORTS):
        return []  # ASA names no application: app-only SMB cannot be expressed
    src, dst, sport = row["src_ip"], row["dest_ip"], row["src_port"]
    proto = "UDP" if row["transport"] == "udp" else "TCP"
    host = row["dvc"]
    if not _allowed(row):
        message = (f"%ASA-4-106023: Deny {proto.lower()} src outside:{src}/{sport} dst inside:{dst}/{port} "
                   f'by access-group "outside_in" [0x0, 0x0]')
        return [{"timestamp": _asa_time(row["_time"]), "host": host, "message": message}]
    connection = sessions.next()
    built_id, teardown_id = ("302015", "302016") if proto == "UDP" else ("302013", "302014")
    if _is_internal(src) and not _is_internal(dst):
        built = (f"%ASA-6-{built_id}: Built outbound {proto} connection {connection} for outside:{dst}/{port} "
                 f"({dst}/{port}) to inside:{src}/{sport} ({src}/{sport})")
    else:
        built = (f"%ASA-6-{built_id}: Built inbound {proto} connection {connection} for outside:{src}/{sport} "
                 f"({src}/{sport}) to inside:{dst}/{port} ({dst}/{port})")
    rows = [{"timestamp": _asa_time(row["_time"]), "host": host, "message": built}]
    if row["_time"] is not None and rng.random() < 0.6:
        teardown = (f"%ASA-6-{teardown_id}: Teardown {proto} connection {connection} for outside:{src}/{sport} "
                    f"to inside:{dst}/{port} duration 0:00:30 bytes {row['bytes_in'] + row['bytes_out']} TCP FINs")
        rows.append({"timestamp": _asa_time(_end_of_session(row["_time"])), "host": host, "message": teardown})
    return rows


# --- AWS VPC flow logs ------------------------------------------------------------------------

VPC_SCHEMA = pa.schema([
    ("version", pa.int32()), ("account_id", pa.string()), ("interface_id", pa.string()), ("srcaddr", pa.string()),
    ("dstaddr", pa.string()), ("srcport", pa.int32()), ("dstport", pa.int32()), ("protocol", pa.int32()),
    ("packets", pa.int64()), ("bytes", pa.int64()), ("start", pa.int64()), ("end", pa.int64()),
    ("action", pa.string()), ("log_status", pa.string()),
])


def render_aws_vpc_flow(row: Row, rng: random.Random, sessions: _Session) -> list[Row]:
    port = row["dest_port"]
    if row["action"] == "teardown" or port is None or row["_time"] is None:
        return []  # flow records always carry ports and a capture window
    if row["app"] == "SMB" and port not in SMB_PORTS:
        return []
    start = int(row["_time"].timestamp())
    base = {"version": 2, "account_id": "123456789012", "interface_id": "eni-0a1b2c3d", "packets": 12,
            "start": start, "end": start + 60, "protocol": 17 if row["transport"] == "udp" else 6,
            "log_status": "OK"}
    action = "ACCEPT" if _allowed(row) else "REJECT"
    request = {**base, "srcaddr": row["src_ip"], "dstaddr": row["dest_ip"], "srcport": row["src_port"],
               "dstport": port, "bytes": row["bytes_out"], "action": action}
    rows = [request]
    if action == "ACCEPT":  # the reply is its own record, from port 445 back to the client
        rows.append({**base, "srcaddr": row["dest_ip"], "dstaddr": row["src_ip"], "srcport": port,
                     "dstport": row["src_port"], "bytes": row["bytes_in"], "action": action})
    if rng.random() < 0.05:
        rows.append({**base, "srcaddr": None, "dstaddr": None, "srcport": None, "dstport": None, "packets": None,
                     "bytes": None, "protocol": None, "action": None, "log_status": "NODATA"})
    return rows


# --- Zeek conn.log ----------------------------------------------------------------------------

ZEEK_SCHEMA = pa.schema([
    ("ts", pa.float64()), ("uid", pa.string()), ("id.orig_h", pa.string()), ("id.orig_p", pa.int32()),
    ("id.resp_h", pa.string()), ("id.resp_p", pa.int32()), ("proto", pa.string()), ("service", pa.string()),
    ("orig_bytes", pa.int64()), ("resp_bytes", pa.int64()), ("conn_state", pa.string()),
])
ZEEK_SERVICES = {"smb": "smb,gssapi", "ms-ds-smb": "gssapi,smb,krb", "netbios-ss": "smb", "SMB": "smb",
                 "ssl": "ssl", "web-browsing": "http", "dns": "dns", "smtp": "smtp", "ms-rdp": "rdp", "ssh": "ssh"}


def render_zeek_conn(row: Row, rng: random.Random, sessions: _Session) -> list[Row]:
    if row["action"] == "teardown" or row["dest_port"] is None:
        return []
    state = rng.choice(("SF", "SF", "S1", "RSTO")) if _allowed(row) else rng.choice(("S0", "REJ"))
    return [{
        "ts": row["_time"].timestamp() if row["_time"] else None, "uid": f"C{sessions.next():x}demo",
        "id.orig_h": row["src_ip"], "id.orig_p": row["src_port"], "id.resp_h": row["dest_ip"],
        "id.resp_p": row["dest_port"], "proto": row["transport"], "service": ZEEK_SERVICES.get(row["app"]),
        "orig_bytes": row["bytes_out"], "resp_bytes": row["bytes_in"], "conn_state": state,
    }]


RENDERERS: dict[str, tuple[pa.Schema, Renderer]] = {
    "panos": (PANOS_SCHEMA, render_panos),
    "fortigate": (FORTIGATE_SCHEMA, render_fortigate),
    "cisco_asa": (ASA_SCHEMA, render_cisco_asa),
    "aws_vpc_flow": (VPC_SCHEMA, render_aws_vpc_flow),
    "zeek_conn": (ZEEK_SCHEMA, render_zeek_conn),
}


def generate_vendor_archive(out: str | Path, fmt: str, days: int, rows_per_day: int, seed: int,
                            first_day: dt.date, stories: bool = False) -> list[Row]:
    """Write one source's `dt=` folders in `fmt`; return the canonical events it expresses.
    With `stories`, the demo's planted stories (smb_pipeline.demo.stories) are among them."""
    plant = story_events if stories else None
    if fmt == "cim":
        return write_archive(out, CIM_SCHEMA, lambda row, rng: [row], days, rows_per_day, seed, first_day,
                             plant=plant)
    schema, render = RENDERERS[fmt]
    sessions = _Session(1000 + 100_000_000 * list(RENDERERS).index(fmt))
    return write_archive(out, schema, lambda row, rng: render(row, rng, sessions), days, rows_per_day, seed,
                         first_day, rng_key=f":{fmt}", plant=plant)


def generate_vendor_archives(root: str | Path, formats: list[str], days: int, rows_per_day: int, seed: int,
                             first_day: dt.date) -> dict[str, list[Row]]:
    """One archive per format under `root/<format>`; returns each format's expressed canonical events."""
    return {fmt: generate_vendor_archive(Path(root) / fmt, fmt, days, rows_per_day, seed, first_day)
            for fmt in formats}
