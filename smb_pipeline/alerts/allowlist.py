"""The allowlist: YAML entries that suppress (never drop) alerts, each owned and explained.

An entry names any of `src`, `dest` (CIDRs) and `dest_ports`; all it names must match. It may
limit itself to some `detections` and may `expire` (after that day it suppresses nothing).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from smb_pipeline.errors import ConfigError
from smb_pipeline.yaml_files import read_yaml_file

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
FIELD = "alerts.allowlist"
KEYS = {"id", "src", "dest", "dest_ports", "detections", "reason", "owner", "expires"}


@dataclass(frozen=True)
class AllowlistEntry:
    id: str
    reason: str
    owner: str
    src: IpNetwork | None = None
    dest: IpNetwork | None = None
    dest_ports: tuple[int, ...] | None = None
    detections: tuple[str, ...] | None = None  # None: every detection
    expires: dt.date | None = None
    line: int = 0

    def expired_on(self, day: dt.date) -> bool:
        """True when the entry no longer suppresses alerts of `day`."""
        return self.expires is not None and day > self.expires


def _cidr(value: Any, key: str) -> IpNetwork:
    try:
        return ipaddress.ip_network(str(value).strip(), strict=True)
    except ValueError:
        raise ValueError(f"{key} is not a valid CIDR (value {value!r})") from None


def _ports(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"dest_ports must be a non-empty list of ports (value {value!r})")
    for port in value:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"dest_ports: {port!r} is not a port 0..65535 (value {value!r})")
    return tuple(sorted(set(value)))


def _detections(value: Any, known: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"detections must be a non-empty list (value {value!r})")
    for name in value:
        if name not in known:
            raise ValueError(f"detections: {name!r} is not a detection (known: {', '.join(known)})")
    return tuple(value)


def _text(item: dict, key: str) -> str:
    value = item.get(key)
    if not isinstance(value, (str, int)) or not str(value).strip():
        raise ValueError(f"{key} is required (value {value!r})")
    return str(value).strip()


def _expires(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"expires is not a date YYYY-MM-DD (value {value!r})") from None


def parse_entry(item: Any, line: int, known: tuple[str, ...]) -> AllowlistEntry:
    """One entry; a ValueError names the key and the value."""
    if not isinstance(item, dict):
        raise ValueError(f"expected a mapping with id, reason, owner and src/dest/dest_ports (value {item!r})")
    unknown = sorted(set(item) - KEYS, key=str)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (value {item[unknown[0]]!r})")
    if not any(item.get(key) is not None for key in ("src", "dest", "dest_ports")):
        raise ValueError("names none of src, dest, dest_ports: it would suppress everything")
    return AllowlistEntry(
        id=_text(item, "id"), reason=_text(item, "reason"), owner=_text(item, "owner"),
        src=_cidr(item["src"], "src") if item.get("src") is not None else None,
        dest=_cidr(item["dest"], "dest") if item.get("dest") is not None else None,
        dest_ports=_ports(item["dest_ports"]) if item.get("dest_ports") is not None else None,
        detections=_detections(item["detections"], known) if item.get("detections") is not None else None,
        expires=_expires(item.get("expires")), line=line,
    )


def _item_lines(text: str) -> list[int]:
    node = yaml.compose(text)
    return [item.start_mark.line + 1 for item in node.value] if isinstance(node, yaml.SequenceNode) else []


def read_allowlist(path: Path, known: tuple[str, ...]) -> tuple[AllowlistEntry, ...]:
    """Read and validate the allowlist file; every problem is a ConfigError with file, line, value."""
    document, text = read_yaml_file(path, FIELD)
    if document is None:
        return ()
    if not isinstance(document, list):
        raise ConfigError(f"{FIELD}: {path}: expected a YAML list of entries (got {type(document).__name__})")
    lines = _item_lines(text)
    entries: list[AllowlistEntry] = []
    for index, item in enumerate(document):
        line = lines[index] if index < len(lines) else 0
        label = item.get("id") if isinstance(item, dict) and item.get("id") else f"#{index}"
        try:
            entry = parse_entry(item, line, known)
        except ValueError as exc:
            raise ConfigError(f"{FIELD}: {path} line {line} (entry {label}): {exc}") from None
        if any(entry.id == other.id for other in entries):
            raise ConfigError(f"{FIELD}: {path} line {line} (entry {label}): duplicate id (value {entry.id!r})")
        entries.append(entry)
    return tuple(entries)
