"""From pair-days to alerts: the plan of what can fire (on the driver), then one DataFrame.

`plan_detections` decides, from the config and the covered days, which detections are active,
which are warming up, and the history each processed day has; `compute_alerts` is the pure
transform from the enriched pairs of the processed days and the pair table's history to rows of
`smb_alerts` (without the timestamps the store sets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smb_pipeline.alerts.coverage import warm_days, window_days
from smb_pipeline.alerts.detections import FANOUT, INBOUND, OUTBOUND, fanout, inbound_allowed, outbound_allowed
from smb_pipeline.alerts.novelty import NEW_PAIR, new_pairs, with_new_pair_flag
from smb_pipeline.alerts.schema import COMPUTED_SCHEMA, alert_id
from smb_pipeline.alerts.scoring import with_score
from smb_pipeline.alerts.settings import DETECTIONS, AlertsConfig
from smb_pipeline.alerts.suppression import with_suppression
from smb_pipeline.alerts.texts import with_texts
from smb_pipeline.alerts.volume import VOLUME_SPIKE, volume_spikes
from smb_pipeline.transforms.frames import union_all

OUTBOUND_MODES = ("destination", "both")


@dataclass
class DetectionPlan:
    """What can fire on which processed day, and why the rest cannot (for the run summary)."""

    days: list[dt.date]
    active: list[str]
    inactive: dict[str, str] = field(default_factory=dict)
    novelty_warm: list[dt.date] = field(default_factory=list)
    spike_baselines: dict[dt.date, list[dt.date]] = field(default_factory=dict)
    warming: dict[str, list[dt.date]] = field(default_factory=dict)


def history_days_needed(alerts: AlertsConfig) -> int:
    detections = alerts.detections
    return max(detections.new_pair.lookback_days, detections.volume_spike.baseline_days)


def plan_detections(alerts: AlertsConfig, exclude_company: str, days: Sequence[dt.date],
                    covered: Collection[dt.date]) -> DetectionPlan:
    detections = alerts.detections
    plan = DetectionPlan(list(days), [name for name in DETECTIONS if detections.enabled(name)])
    for name in DETECTIONS:
        if not detections.enabled(name):
            plan.inactive[name] = f"disabled (alerts.detections.{name}.enabled: false)"
    if OUTBOUND in plan.active and exclude_company not in OUTBOUND_MODES:
        plan.active.remove(OUTBOUND)
        plan.inactive[OUTBOUND] = (f"inactive: exclude_company: {exclude_company} removes company sources from the "
                                   "pair table (use destination or both)")
    novelty = detections.new_pair
    plan.novelty_warm = warm_days(days, covered, novelty.lookback_days, novelty.min_history_days)
    spike = detections.volume_spike
    for day in warm_days(days, covered, spike.baseline_days, spike.min_history_days):
        plan.spike_baselines[day] = window_days(day, covered, spike.baseline_days)
    for name, warm in ((NEW_PAIR, plan.novelty_warm), (VOLUME_SPIKE, list(plan.spike_baselines))):
        cold = [day for day in days if day not in warm]
        if name in plan.active and cold:
            plan.warming[name] = cold
    return plan


def _detected(pairs: DataFrame, history: DataFrame, plan: DetectionPlan, alerts: AlertsConfig) -> list[DataFrame]:
    detections = alerts.detections
    builders = {
        INBOUND: lambda: inbound_allowed(pairs),
        OUTBOUND: lambda: outbound_allowed(pairs),
        NEW_PAIR: lambda: new_pairs(pairs, detections.new_pair.directions),
        FANOUT: lambda: fanout(pairs, detections.smb_fanout.min_destinations),
        VOLUME_SPIKE: lambda: volume_spikes(pairs, history, plan.spike_baselines, detections.volume_spike.k,
                                            detections.volume_spike.min_connections),
    }
    return [builders[name]() for name in plan.active]


def compute_alerts(pairs: DataFrame, history: DataFrame, plan: DetectionPlan, alerts: AlertsConfig) -> DataFrame:
    """Alerts of the processed days: `pairs` are their enriched pair-days (with direction and
    labels), `history` the pair table's rows of the days before them (and possibly them)."""
    flagged = with_new_pair_flag(pairs, history, alerts.detections.new_pair.lookback_days, plan.novelty_warm)
    frames = _detected(flagged, history, plan, alerts)
    if not frames:
        return pairs.sparkSession.createDataFrame([], COMPUTED_SCHEMA)
    scored = with_score(union_all(frames), alerts.scoring)
    texted = with_texts(scored, alerts.detections)
    suppressed = with_suppression(texted, alerts.allowlist_entries)
    with_id = suppressed.withColumn(
        "alert_id", alert_id(F.col("event_date"), F.col("detection"), F.col("src_ip"), F.col("dest_ip")))
    return with_id.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in COMPUTED_SCHEMA.fields])
