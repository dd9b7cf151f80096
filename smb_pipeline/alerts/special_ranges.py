"""Special-purpose address ranges: the shipped registry file, and a user's own file on top.

Both files have the same layout (`ranges:` a list of `{cidr, name, rfc}`); the shipped one also
names its registry, version and date, so that an alert can say which list it was judged by.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from smb_pipeline.errors import ConfigError
from smb_pipeline.yaml_files import read_yaml_file

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
RANGE_KEYS = {"cidr", "name", "rfc", "as_ipv4"}
FILE_KEYS = {"registry", "version", "date", "ranges"}


@dataclass(frozen=True)
class SpecialRange:
    """One special-purpose range. `as_ipv4`: the range holds IPv4 addresses (::ffff:0:0/96), whose
    own IPv4 ranges decide; it is listed for completeness and not matched itself."""

    network: IpNetwork
    name: str
    rfc: str | None = None
    as_ipv4: bool = False


@dataclass(frozen=True)
class SpecialRegistry:
    registry: str
    version: str
    date: dt.date | None
    ranges: tuple[SpecialRange, ...]


def shipped_ranges_path() -> Traversable:
    """The shipped registry, read through importlib.resources: under spark-submit --py-files the
    package is a zip, where the file has no path of its own."""
    return resources.files("smb_pipeline") / "alerts" / "special_ranges.yaml"


def _entry_lines(text: str) -> list[int]:
    """The line of each item of the `ranges` list, for error messages."""
    node = yaml.compose(text)
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "ranges" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _parse_range(item: Any, where: str) -> SpecialRange:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a mapping {{cidr, name, rfc}} (value {item!r})")
    unknown = sorted(set(item) - RANGE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (value {item[unknown[0]]!r})")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name is required (value {name!r})")
    try:
        network = ipaddress.ip_network(str(item.get("cidr", "")).strip(), strict=True)
    except ValueError as exc:
        raise ConfigError(f"{where}: cidr is not a valid CIDR ({exc}) (value {item.get('cidr')!r})") from None
    rfc = item.get("rfc")
    return SpecialRange(network, name.strip(), None if rfc is None else str(rfc), bool(item.get("as_ipv4", False)))


def read_special_ranges(path: Path | Traversable, field: str = "alerts.special_ranges") -> SpecialRegistry:
    """Read a ranges file; every problem is a ConfigError naming the file, line and value."""
    document, text = read_yaml_file(path, field)
    if not isinstance(document, dict) or not isinstance(document.get("ranges"), list):
        raise ConfigError(f"{field}: {path}: expected a mapping with a `ranges` list")
    unknown = sorted(set(document) - FILE_KEYS)
    if unknown:
        raise ConfigError(f"{field}: {path}: unknown key {unknown[0]!r}")
    lines = _entry_lines(text)
    ranges = []
    for index, item in enumerate(document["ranges"]):
        line = lines[index] if index < len(lines) else "?"
        ranges.append(_parse_range(item, f"{field}: {path} line {line} (range {index})"))
    date = document.get("date")
    return SpecialRegistry(str(document.get("registry", path.name)), str(document.get("version", "")),
                           date if isinstance(date, dt.date) else None, tuple(ranges))


def shipped_registry() -> SpecialRegistry:
    return read_special_ranges(shipped_ranges_path(), "special ranges (shipped)")


def load_special_ranges(user_file: str | None) -> tuple[SpecialRange, ...]:
    """The shipped ranges, plus the user's (`alerts.special_ranges`) when given."""
    ranges = shipped_registry().ranges
    if user_file:
        ranges += read_special_ranges(Path(user_file)).ranges
    return ranges


def matched_networks(ranges: Sequence[SpecialRange]) -> list[IpNetwork]:
    """The networks an address is matched against (::ffff:0:0/96 is judged by its IPv4 ranges)."""
    return [r.network for r in ranges if not r.as_ipv4]
