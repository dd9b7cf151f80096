"""Reading the project's YAML files (the config, the allowlist, special-purpose ranges) with
the same one-line errors: the field that named the file, and what is wrong with it."""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from smb_pipeline.errors import ConfigError


def read_yaml_file(path: Path | Traversable, field: str) -> tuple[Any, str]:
    """The parsed document and its text (for line numbers in later errors).

    ConfigError `<field>: file not found: ...` or `<field>: <path> is not valid YAML: ...`.
    """
    if not path.is_file():
        raise ConfigError(f"{field}: file not found: {str(path)!r}")
    text = path.read_text()
    try:
        return yaml.safe_load(text), text
    except yaml.YAMLError as exc:
        raise ConfigError(f"{field}: {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
