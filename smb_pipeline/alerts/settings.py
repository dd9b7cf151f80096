"""The `alerts:` section of the config: detections with their parameters, and the scoring.

Kept apart from smb_pipeline.config so that each detection's knobs sit beside its defaults;
smb_pipeline.config validates it with the rest of the file (unknown keys are errors there too).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smb_pipeline.alerts.allowlist import AllowlistEntry
from smb_pipeline.alerts.special_ranges import SpecialRange

DETECTIONS = ("smb_inbound_allowed", "smb_outbound_allowed", "new_pair", "smb_fanout", "volume_spike")
DIRECTIONS = ("inbound", "outbound", "internal", "external", "unlisted_private")
Direction = Literal["inbound", "outbound", "internal", "external", "unlisted_private"]
SEVERITIES = ("low", "medium", "high", "critical")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DirectionDetection(_Strict):
    """smb_inbound_allowed / smb_outbound_allowed: a pair-day of one direction."""

    enabled: bool = True


class NewPairDetection(_Strict):
    """new_pair: a pair with no row during the `lookback_days` before its day."""

    enabled: bool = True
    lookback_days: int = Field(default=35, ge=1, le=400)
    min_history_days: int = Field(default=7, ge=1)
    directions: tuple[Direction, ...] = ("inbound", "outbound", "internal")


class FanoutDetection(_Strict):
    """smb_fanout: a source reaching at least `min_destinations` destinations in a day."""

    enabled: bool = True
    min_destinations: int = Field(default=20, ge=2)


class VolumeSpikeDetection(_Strict):
    """volume_spike: a source's connections above median + k * MAD of its previous days."""

    enabled: bool = True
    baseline_days: int = Field(default=28, ge=2, le=400)
    k: float = Field(default=6.0, gt=0)
    min_connections: int = Field(default=50, ge=1)
    min_history_days: int = Field(default=7, ge=1)


class DetectionsConfig(_Strict):
    smb_inbound_allowed: DirectionDetection = DirectionDetection()
    smb_outbound_allowed: DirectionDetection = DirectionDetection()
    new_pair: NewPairDetection = NewPairDetection()
    smb_fanout: FanoutDetection = FanoutDetection()
    volume_spike: VolumeSpikeDetection = VolumeSpikeDetection()

    def enabled(self, name: str) -> bool:
        return getattr(self, name).enabled


class SeverityThresholds(_Strict):
    """The lowest risk score of each severity; below `medium` is low."""

    medium: int = Field(default=50, ge=0, le=100)
    high: int = Field(default=70, ge=0, le=100)
    critical: int = Field(default=90, ge=0, le=100)

    @field_validator("critical")
    @classmethod
    def _ordered(cls, critical: int, info) -> int:
        high, medium = info.data.get("high"), info.data.get("medium")
        if high is not None and medium is not None and not medium <= high <= critical:
            raise ValueError(f"thresholds must rise: medium {medium} <= high {high} <= critical {critical}")
        return critical


def _default_base() -> dict[str, int]:
    return {"smb_inbound_allowed": 30, "smb_outbound_allowed": 55, "new_pair": 45, "smb_fanout": 60,
            "volume_spike": 50}


def _default_direction_bonus() -> dict[str, int]:
    return {"inbound": 10, "outbound": 10, "internal": 0, "external": 0, "unlisted_private": 5}


class ScoringConfig(_Strict):
    """risk_score = base[detection] + novelty + direction + fan-out + volume bonuses, within 0..100."""

    base: dict[str, int] = Field(default_factory=_default_base)
    novelty_bonus: int = 25
    direction_bonus: dict[str, int] = Field(default_factory=_default_direction_bonus)
    fanout_bonus: int = 15
    fanout_bonus_destinations: int = Field(default=100, ge=1)
    volume_bonus: int = 15
    volume_bonus_connections: int = Field(default=1000, ge=1)
    severity: SeverityThresholds = SeverityThresholds()

    @field_validator("base")
    @classmethod
    def _known_detections(cls, base: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(base) - set(DETECTIONS))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a detection (known: {', '.join(DETECTIONS)})")
        return {**_default_base(), **base}

    @field_validator("direction_bonus")
    @classmethod
    def _known_directions(cls, bonus: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(bonus) - set(DIRECTIONS))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a direction (known: {', '.join(DIRECTIONS)})")
        return {**_default_direction_bonus(), **bonus}


class AlertsConfig(_Strict):
    """`alerts:`; the reference files are read by smb_pipeline.config into the excluded fields."""

    enabled: bool = True
    special_ranges: str | None = None
    allowlist: str | None = None
    detections: DetectionsConfig = DetectionsConfig()
    scoring: ScoringConfig = ScoringConfig()
    # Filled from the files above while the config is validated; not keys of the YAML.
    special_range_entries: tuple[SpecialRange, ...] = Field(default=(), exclude=True)
    allowlist_entries: tuple[AllowlistEntry, ...] = Field(default=(), exclude=True)


LOADED_FIELDS = ("special_range_entries", "allowlist_entries")
