"""`fortigate`: FortiGate traffic logs with FortiOS key names."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from smb_pipeline.formats.base import Fields, FormatContext
from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Computed, Match, Session, VendorSpec, Verdicts
from smb_pipeline.formats.times import epoch_to_timestamp, local_to_utc


def _event_time(fields: Fields, context: FormatContext) -> Column:
    """`eventtime` (epoch, exact) first; else `date` + `time` at the logged `tz` offset, else in the source's zone."""
    wall = F.concat_ws(" ", fields.col("date", "string"), fields.col("time", "string"))
    offset = F.regexp_replace(F.trim(fields.col("tz", "string")), ":", "")
    with_offset = F.when(
        offset.rlike(r"^[+-]\d{4}$"),
        F.try_to_timestamp(F.concat(wall, offset), F.lit("yyyy-MM-dd HH:mm:ssZ")),
    )
    local = local_to_utc(F.try_to_timestamp(wall, F.lit("yyyy-MM-dd HH:mm:ss")), context.timezone)
    epoch = F.when(fields.col("eventtime", "string").rlike(r"^\s*\d+\s*$"), epoch_to_timestamp(fields.col("eventtime")))
    return F.coalesce(epoch, with_offset, local)


FORTIGATE = declare(VendorSpec(
    name="fortigate",
    description="Fortinet FortiGate traffic log (FortiOS key=value names)",
    columns={
        "event_time": Computed(("eventtime", "date", "time", "tz"), _event_time),
        "src_ip": "srcip",
        "dest_ip": "dstip",
        "src_port": "srcport",
        "dest_port": "dstport",
        "transport": "proto",
        "app": ("service", "app"),
        "action": "action",
        "bytes_out": "sentbyte",
        "bytes_in": "rcvdbyte",
        "dvc": "devname",
        "rule": ("policyname", "policyid"),
        "session_id": "sessionid",
    },
    required=("srcip", "dstip", "dstport", "action"),
    # `start` opens a session logged twice; the ends close it (or log it once, when start logging
    # is off). `deny` is a policy block; `ip-conn` a connection that never got through.
    verdicts=Verdicts(
        allowed=frozenset({"accept", "start"}),
        ends=frozenset({"close", "timeout", "client-rst", "server-rst"}),
        blocked=frozenset({"deny", "ip-conn", "block"}),
    ),
    # A session logged at start and at close shares (devname, sessionid); the start record has no totals.
    session=Session(device=("devname",), start=Match("action", frozenset({"start"}))),
    # Predefined services SMB (TCP 445) and SAMBA (TCP 139), and the application-control name.
    smb_apps=frozenset({"smb", "samba"}),
    unused=("vd",),
))
