"""Registry of source formats: the config's `format:` value -> its `SourceFormat`."""

from __future__ import annotations

from smb_pipeline.formats.base import SourceFormat
from smb_pipeline.formats.cim import CIM

FORMATS: dict[str, SourceFormat] = {fmt.name: fmt for fmt in (CIM,)}

__all__ = ["FORMATS", "SourceFormat"]
