"""`pfsense`: pfSense filterlog kept as text: `timestamp`, `host`, `message` (the CSV).

Field order (Netgate "Raw Filter Log Format"), 1-based after an optional `filterlog[pid]:`:
common 1 rule, 2 sub-rule, 3 anchor, 4 tracker, 5 interface, 6 reason, 7 action,
8 direction, 9 ip-version; IPv4: 10 tos, 11 ecn, 12 ttl, 13 id, 14 offset, 15 flags,
16 protocol id, 17 protocol text, 18 length, 19 src, 20 dst, then for TCP/UDP 21 src
port, 22 dst port, 23 data length; IPv6: 10 class, 11 flow label, 12 hop limit,
13 protocol text, 14 protocol id, 15 length, 16 src, 17 dst, then 18 src port, 19 dst port.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.formats.base import Fields, FormatContext, port_text, protocol_name
from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Computed, Parse, VendorSpec, Verdicts
from smb_pipeline.formats.text import syslog_time, with_csv_fields

VERDICTS = Verdicts(allowed=frozenset({"pass"}), blocked=frozenset({"block", "reject"}))
PORT_PROTOCOLS = frozenset({"6", "17"})

# 1-based CSV positions per IP version: protocol id, protocol text, src, dst, src port, dst port.
POSITIONS = {
    "4": {"proto_id": 16, "proto_text": 17, "src": 19, "dst": 20, "sport": 21, "dport": 22},
    "6": {"proto_id": 14, "proto_text": 13, "src": 16, "dst": 17, "sport": 18, "dport": 19},
}
PREFIX_RE = r"^.*?filterlog(\[\d+\])?:\s*"


def prefilter_pfsense(fields: Fields, context: FormatContext) -> Column:
    """`message IS NOT NULL`, an allowed action field and an SMB port as a whole field, read as
    the normalizer reads fields (trimmed, any case, leading zeros). A superset, as ",445," may
    be another field: normalize reads the exact positions.
    """
    message = fields.col("message")
    ports = "|".join(str(port) for port in context.smb_ports)
    words = sorted(VERDICTS.allowed)
    word = words[0] if len(words) == 1 else f"(?:{'|'.join(words)})"
    passed = message.rlike(rf"(?i), *{word} *,")
    smb_port = message.rlike(rf", *0*({ports}) *(,|$)")
    return message.isNotNull() & passed & smb_port


# The canonical columns the text parser yields (the rest come from the declaration).
PARSED = ("src_ip", "dest_ip", "src_port", "dest_port", "transport", "action", "rule", "direction")


# The 1-based CSV positions the columns read: the common fields and both IP versions'.
_READ = sorted({1, 4, 7, 8, 9} | {position for version in POSITIONS.values() for position in version.values()})


def parse_pfsense(df: DataFrame, fields: Fields, context: FormatContext) -> tuple[DataFrame, Mapping[str, Column]]:
    """The CSV fields at their positions for the line's IP version; the action word for `VERDICTS`.

    The fields read are helper columns (`text.with_csv_fields`)."""
    line = F.regexp_replace(fields.col("message"), PREFIX_RE, "")
    parsed, at = with_csv_fields(df, line, "_pf_", _READ)

    version = at(9)

    def by_version(name: str) -> Column:
        return F.when(version == "4", at(POSITIONS["4"][name])).when(version == "6", at(POSITIONS["6"][name]))

    proto_id = by_version("proto_id")
    has_ports = proto_id.isin(*PORT_PROTOCOLS)
    return parsed, {
        # Null when the ip-version field is not 4/6 or the line is short: the core rejects it.
        "src_ip": by_version("src"),
        "dest_ip": by_version("dst"),
        "src_port": port_text(F.when(has_ports, by_version("sport"))),
        "dest_port": port_text(F.when(has_ports, by_version("dport"))),
        "transport": protocol_name(F.coalesce(proto_id, by_version("proto_text"))),
        "action": at(7),
        "rule": F.coalesce(at(4), at(1)),
        "direction": at(8),
    }


PFSENSE = declare(VendorSpec(
    name="pfsense",
    description="pfSense filterlog CSV kept as text",
    columns={
        "event_time": Computed(("timestamp",), syslog_time("timestamp")),
        "dvc": "host",
    },
    parse=Parse(("message",), PARSED, parse_pfsense),
    required=("timestamp", "message"),
    verdicts=VERDICTS,
    prefilter=prefilter_pfsense,
    # filterlog names no application: SMB by port only.
))
