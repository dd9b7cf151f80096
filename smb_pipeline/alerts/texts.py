"""What a person reads: the reason an alert fired, what to do about it, and its MITRE techniques."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.alerts.settings import DetectionsConfig

MITRE = {
    "smb_inbound_allowed": ("T1210", "T1021.002", "T1569.002"),
    "smb_outbound_allowed": ("T1187", "T1048"),
    "new_pair": ("T1210", "T1021.002"),
    "smb_fanout": ("T1046", "T1210", "T1021.002"),
    "volume_spike": ("T1021.002", "T1570", "T1039"),
}

RESPONSE = {
    "smb_inbound_allowed": "SMB from the Internet should never be allowed: find the firewall policy that allowed "
                           "it and close it, then check the destination host for logons and new services.",
    "smb_outbound_allowed": "SMB to the Internet leaks NTLM credentials and data: block TCP 139/445 outbound at the "
                            "perimeter, and check the source host for the process that connected.",
    "new_pair": "A pair never seen in the lookback: confirm with the destination's owner that this source is "
                "expected; if not, treat it as lateral movement or intrusion and check the firewall policy.",
    "smb_fanout": "One source reaching many SMB hosts is a worm or a scanner: identify the source, isolate it "
                  "if it is a company host, block it at the firewall if it is external.",
    "volume_spike": "A source far above its own baseline: check for mass file copy or ransomware on the source and "
                    "its destinations' shares.",
}


def _ports(column: str = "dest_ports") -> Column:
    return F.coalesce(F.array_join(F.col(column).cast("array<string>"), ","), F.lit("?"))


def _who(ip: str, label: str) -> Column:
    return F.when(F.col(label).isNotNull(), F.format_string("%s (%s)", F.col(ip), F.col(label))).otherwise(F.col(ip))


def reason(detections: DetectionsConfig) -> Column:
    """One sentence: what happened, how much, and why it fired."""
    src, dest, count = _who("src_ip", "src_label"), _who("dest_ip", "dest_label"), F.col("connection_count")
    return (
        F.when(F.col("detection") == "smb_inbound_allowed", F.format_string(
            "The firewall allowed %d SMB connection(s) from Internet address %s to company host %s on port(s) %s.",
            count, src, dest, _ports()))
        .when(F.col("detection") == "smb_outbound_allowed", F.format_string(
            "Company host %s made %d allowed SMB connection(s) to Internet address %s on port(s) %s.",
            src, count, dest, _ports()))
        .when(F.col("detection") == "new_pair", F.format_string(
            "%s reached %s over SMB (%d connection(s), %s) with no such pair in the previous %d days.",
            src, dest, count, F.col("direction"), F.lit(detections.new_pair.lookback_days)))
        .when(F.col("detection") == "smb_fanout", F.format_string(
            "%s reached %d distinct SMB destinations in one day (threshold %d): a worm or a scanner.",
            src, F.col("distinct_destinations"), F.lit(detections.smb_fanout.min_destinations)))
        .when(F.col("detection") == "volume_spike", F.format_string(
            "%s made %d SMB connections in one day, above its baseline median %.1f + %s x MAD %.1f.",
            src, count, F.col("baseline_median"), F.lit(f"{detections.volume_spike.k:g}"), F.col("baseline_mad")))
    )


def _by_detection(values: dict, cast: str) -> Column:
    result = F.lit(None).cast(cast)
    for name, value in values.items():
        literal = F.array(*[F.lit(v) for v in value]) if isinstance(value, tuple) else F.lit(value)
        result = F.when(F.col("detection") == name, literal).otherwise(result)
    return result


def with_texts(alerts: DataFrame, detections: DetectionsConfig) -> DataFrame:
    """Add `reason`, `response` and `mitre_techniques`."""
    return (
        alerts.withColumn("reason", reason(detections))
        .withColumn("response", _by_detection(RESPONSE, "string"))
        .withColumn("mitre_techniques", _by_detection(MITRE, "array<string>"))
    )
