"""Reading the alerts' reference files while the config is validated: errors exit 2 before Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smb_pipeline.alerts.allowlist import read_allowlist
from smb_pipeline.alerts.settings import DETECTIONS, LOADED_FIELDS
from smb_pipeline.alerts.special_ranges import load_special_ranges
from smb_pipeline.errors import ConfigError


def alerts_document(raw: Any, resolve: Any) -> Any:
    """The `alerts:` mapping with its file paths resolved (by `resolve(path)`) and the files read
    into the fields the YAML cannot set; anything else is left for the model to validate."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return raw
    for key in LOADED_FIELDS:
        if key in raw:
            raise ConfigError(f"alerts.{key}: unknown key (value {raw[key]!r})")
    document = dict(raw)
    for key in ("special_ranges", "allowlist"):
        if isinstance(document.get(key), str):
            document[key] = resolve(document[key])
    special = document.get("special_ranges")
    allowlist = document.get("allowlist")
    document["special_range_entries"] = load_special_ranges(special if isinstance(special, str) else None)
    document["allowlist_entries"] = read_allowlist(Path(allowlist), DETECTIONS) if isinstance(allowlist, str) else ()
    return document
