"""`ocsf`: OCSF Network Activity (class 4001), as Amazon Security Lake stores it.

The verdict is numeric: `action_id` 1 Allowed, 2 Denied; when it is 0/99 (Unknown, Other) or
absent, `disposition_id` decides. Producers that log Open and Close of a connection repeat its
uid; others give one record per uid.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from smb_pipeline.formats.base import Fields, FormatContext, protocol_name, session_key, smb_prefilter
from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Computed, Session, VendorSpec

NETWORK_ACTIVITY = 4001
ALLOWED_ACTION_IDS = (1,)  # action_id 1 Allowed
BLOCKED_ACTION_IDS = (2,)  # action_id 2 Denied
UNKNOWN_ACTION_IDS = (0, 99)  # Unknown, Other: the disposition decides
ALLOWED_DISPOSITION_IDS = (1,)
BLOCKED_DISPOSITION_IDS = (2, 6, 21, 25)  # Blocked, Dropped, Reset, Rejected
OPEN_ACTIVITY, CLOSE_ACTIVITY = 1, 2
DIRECTIONS = {0: "unknown", 1: "inbound", 2: "outbound", 3: "lateral"}
SMB_APPS = frozenset({"smb", "cifs"})


def is_network_activity(fields: Fields) -> Column:
    """Network Activity, or no class named (a producer that logs only this class); the
    normalizer gives other classes no verdict, so the prefilter and it agree."""
    class_uid = fields.col("class_uid").try_cast("int")
    return class_uid.isNull() | fields.isin("class_uid", (NETWORK_ACTIVITY,))


def prefilter_ocsf(fields: Fields, context: FormatContext) -> Column:
    by_disposition = fields.isin("disposition_id", ALLOWED_DISPOSITION_IDS)
    if fields.has("action_id"):
        # As the normalizer reads it: text that is not a number is no verdict either.
        no_verdict = fields.col("action_id").try_cast("int").isNull() | fields.isin("action_id", UNKNOWN_ACTION_IDS)
        allowed = fields.isin("action_id", ALLOWED_ACTION_IDS) | (by_disposition & no_verdict)
    else:
        allowed = by_disposition
    # SMB first: the rarer test (see declarative.prefilter).
    predicate = smb_prefilter(fields, context, "dst_endpoint.port", ("app_name",), SMB_APPS) & allowed
    if fields.has("class_uid"):
        predicate = predicate & is_network_activity(fields)
    return predicate


def _keyed(fields: Fields) -> Column:
    """Whether the record has a session key (as the declared `Session` builds it)."""
    return session_key(fields.col("device.hostname", "string"), fields.col("connection_info.uid", "string")).isNotNull()


def _activity(fields: Fields, activity: int) -> Column:
    """Records of a keyed session with this activity: Open carries no totals, Close ends it."""
    return F.coalesce((fields.col("activity_id").try_cast("int") == activity) & _keyed(fields), F.lit(False))


def _verdict(fields: Fields, context: FormatContext) -> Column:
    action_id = fields.col("action_id").try_cast("int")
    disposition_id = fields.col("disposition_id").try_cast("int")
    by_action = F.when(action_id.isin(*ALLOWED_ACTION_IDS), "allowed").when(
        action_id.isin(*BLOCKED_ACTION_IDS), "blocked"
    )
    by_disposition = F.when(disposition_id.isin(*ALLOWED_DISPOSITION_IDS), "allowed").when(
        disposition_id.isin(*BLOCKED_DISPOSITION_IDS), "blocked"
    )
    by_id = F.when(action_id.isNull() | action_id.isin(*UNKNOWN_ACTION_IDS), by_disposition).otherwise(by_action)
    verdict = F.when(is_network_activity(fields), by_id)  # other classes carry no traffic verdict
    return F.when(_activity(fields, CLOSE_ACTIVITY) & (verdict == "allowed"), "teardown").otherwise(verdict)


def _vendor_action(fields: Fields, context: FormatContext) -> Column:
    return F.coalesce(fields.col("action", "string"), fields.col("disposition", "string"),
                      fields.col("action_id").try_cast("int").cast("string"))


def _transport(fields: Fields, context: FormatContext) -> Column:
    return F.coalesce(protocol_name(fields.col("connection_info.protocol_num")),
                      F.lower(F.trim(fields.col("connection_info.protocol_name"))))


def _direction(fields: Fields, context: FormatContext) -> Column:
    direction_id = fields.col("connection_info.direction_id").try_cast("int")
    mapped = F.lit(None).cast("string")
    for number, name in DIRECTIONS.items():
        mapped = F.when(direction_id == number, F.lit(name)).otherwise(mapped)
    return mapped


def _bytes(name: str) -> Computed:
    """OCSF: bytes_in is dst -> src (server -> client), bytes_out src -> dst; none on Open."""
    return Computed((name, "activity_id"), lambda fields, context: F.when(
        ~_activity(fields, OPEN_ACTIVITY), fields.col(name).try_cast("bigint")))


OCSF = declare(VendorSpec(
    name="ocsf",
    description="OCSF Network Activity (4001), Amazon Security Lake layout",
    columns={
        "event_time": "time",
        "src_ip": "src_endpoint.ip",
        "src_port": "src_endpoint.port",
        "dest_ip": "dst_endpoint.ip",
        "dest_port": "dst_endpoint.port",
        "transport": Computed(("connection_info.protocol_num", "connection_info.protocol_name"), _transport),
        "session_id": "connection_info.uid",
        "direction": Computed(("connection_info.direction_id",), _direction),
        "app": "app_name",
        "vendor_action": Computed(("action", "action_id", "disposition"), _vendor_action),
        "action": Computed(("action_id", "disposition_id", "activity_id", "class_uid"), _verdict),
        "bytes_in": _bytes("traffic.bytes_in"),
        "bytes_out": _bytes("traffic.bytes_out"),
        "dvc": "device.hostname",
        "rule": "firewall_rule.name",
    },
    required=("time", "src_endpoint.ip", "dst_endpoint.ip", "dst_endpoint.port"),
    session=Session(device=("device.hostname",)),
    smb_apps=SMB_APPS,
    prefilter=prefilter_ocsf,
))
