"""Pipeline configuration: YAML parsed once, at the edge, into frozen typed objects.

Unknown keys are errors, never ignored: a misspelt key in a nightly job would otherwise
silently change what the detection sees. Every error becomes one `ConfigError` line that
names the field and the offending value, which the command line turns into exit code 2.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from smb_pipeline.alerts.settings import AlertsConfig
from smb_pipeline.errors import ConfigError
from smb_pipeline.yaml_files import read_yaml_file

ExcludeMode = Literal["source", "destination", "either", "both"]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """One firewall-log archive in one vendor format."""

    name: str = Field(min_length=1)
    format: str
    path: str = Field(min_length=1)
    timezone: str = "UTC"
    columns: dict[str, str] = Field(default_factory=dict)
    # A file that is not readable Parquet fails the run (`fail`) or is skipped and listed (`skip`).
    on_corrupt_file: Literal["fail", "skip"] = "fail"

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        from smb_pipeline.formats import FORMATS

        if value not in FORMATS:
            raise ValueError(f"unknown format {value!r} (known: {', '.join(sorted(FORMATS))})")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Paris')") from None
        return value

    @model_validator(mode="after")
    def _known_columns(self) -> SourceConfig:
        from smb_pipeline.formats import FORMATS

        fmt = FORMATS.get(self.format)
        if fmt is None:
            return self
        unknown = sorted(set(self.columns) - set(fmt.fields))
        if unknown:
            raise ValueError(
                f"columns: {unknown[0]!r} is not a field of format {self.format!r} "
                f"(fields: {', '.join(fmt.fields)})"
            )
        return self


class SmbConfig(_Strict):
    """What counts as SMB: destination ports, or application names (case-insensitive)."""

    ports: tuple[int, ...] = (139, 445)
    apps: tuple[str, ...] = ("smb", "ms-ds-smb", "netbios-ss")

    @field_validator("ports")
    @classmethod
    def _valid_ports(cls, ports: tuple[int, ...]) -> tuple[int, ...]:
        for port in ports:
            if not 0 <= port <= 65535:
                raise ValueError(f"port {port} is outside 0..65535")
        return tuple(sorted(set(ports)))

    @field_validator("apps")
    @classmethod
    def _lower_apps(cls, apps: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({app.strip().lower() for app in apps if app.strip()}))


class OutputConfig(_Strict):
    """Where the Delta tables live: `<path>/<table>`; optionally also registered in a catalog database."""

    path: str = Field(min_length=1)
    database: str | None = None
    # How long a run's claim on its days outlives its last renewal (smb_pipeline.run.claims):
    # after a SIGKILL on another host, the next run of those days waits at most this long.
    claim_lease_seconds: int = Field(default=120, ge=5)

    def table_path(self, table: str) -> str:
        return f"{self.path.rstrip('/')}/{table}"


class MaintenanceConfig(_Strict):
    """`smb-pipeline maintain`: which partitions to compact, and how long to keep old files."""

    recent_days: int = Field(default=7, ge=1)
    vacuum_retention_hours: int = Field(default=168, ge=0)


class PipelineConfig(_Strict):
    """The whole validated configuration of a run."""

    sources: tuple[SourceConfig, ...] = Field(min_length=1)
    company_subnets: tuple[IpNetwork, ...] = ()
    exclude_company: ExcludeMode = "source"
    smb: SmbConfig = SmbConfig()
    output: OutputConfig
    reprocess_days: int = Field(default=2, ge=0, le=60)
    maintenance: MaintenanceConfig = MaintenanceConfig()
    delta_packages: bool = True
    spark: dict[str, str] = Field(default_factory=dict)
    alerts: AlertsConfig = AlertsConfig()
    # CIDR -> label, from labelled lines of the subnets file or {cidr, label} entries (not a YAML key).
    company_subnet_labels: dict[str, str] = Field(default_factory=dict, exclude=True)
    # A Spark Connect server (sc://host:port) to run on instead of a local JVM; --remote overrides it.
    spark_remote: str | None = None

    @field_validator("spark_remote")
    @classmethod
    def _connect_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("sc://"):
            raise ValueError(f"must be a Spark Connect URL sc://HOST:PORT (value {value!r})")
        return value

    @field_validator("spark", mode="before")
    @classmethod
    def _stringify_spark(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _unique_source_names(self) -> PipelineConfig:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"duplicate source name {source.name!r}")
            seen.add(source.name)
        return self


def parse_cidr(text: str) -> IpNetwork:
    """Parse one CIDR strictly; host bits set are an error because they usually hide a typo."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        raise ValueError(f"{text.strip()!r} is not a valid CIDR ({exc})") from None


def read_labelled_subnet_file(path: Path) -> list[tuple[IpNetwork, str | None]]:
    """Read one CIDR per line, optionally followed by a label ('10.20.0.0/16  dc1-servers');
    '#' starts a comment; blank lines are ignored."""
    networks = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        cidr, *label = text.split(maxsplit=1)
        try:
            networks.append((parse_cidr(cidr), label[0].strip() if label else None))
        except ValueError as exc:
            raise ConfigError(f"company_subnets: {path} line {number}: {exc}") from None
    return networks


def _inline_subnet(item: Any) -> tuple[IpNetwork, str | None]:
    """A plain CIDR string, or {cidr: ..., label: ...}."""
    if isinstance(item, dict):
        unknown = sorted(set(item) - {"cidr", "label"})
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} (value {item[unknown[0]]!r})")
        label = item.get("label")
        return parse_cidr(str(item.get("cidr", ""))), None if label is None else str(label).strip() or None
    return parse_cidr(str(item)), None


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def resolve_path(value: str, config_dir: Path | None) -> str:
    """A relative local path in a config file means a path beside that file, wherever the
    command runs; absolute paths and URIs (s3a://, abfss://, hdfs://, file:) stay as written.
    Without a config file (a dict built in code) a relative path means a path in the working
    directory, made absolute here: Delta names a table by path in SQL only with an absolute
    path (`storage.delta_io.table_ref`), and Spark's JVM does not follow Python's `chdir`."""
    if not value or _URI.match(value) or Path(value).is_absolute():  # "" is left for validation
        return value
    return str(((config_dir or Path.cwd()) / value).resolve())


def _with_resolved_paths(document: dict[str, Any], config_dir: Path | None) -> dict[str, Any]:
    sources = document.get("sources")
    if isinstance(sources, list):
        document["sources"] = [
            {**source, "path": resolve_path(source["path"], config_dir)}
            if isinstance(source, dict) and isinstance(source.get("path"), str) else source
            for source in sources
        ]
    output = document.get("output")
    if isinstance(output, dict) and isinstance(output.get("path"), str):
        document["output"] = {**output, "path": resolve_path(output["path"], config_dir)}
    return document


def _load_subnets(raw: Any, config_dir: Path | None) -> list[tuple[IpNetwork, str | None]]:
    if raw is None:
        return []
    if isinstance(raw, str):
        path = Path(resolve_path(raw, config_dir))
        if not path.is_file():
            base = "beside the config" if config_dir is not None else "in the working directory"
            where = f" (resolved {base}: {str(path)!r})" if str(path) != raw else ""
            raise ConfigError(f"company_subnets: file not found: {raw!r}{where}")
        return read_labelled_subnet_file(path)
    if isinstance(raw, list):
        networks = []
        for index, item in enumerate(raw):
            try:
                networks.append(_inline_subnet(item))
            except ValueError as exc:
                raise ConfigError(f"company_subnets[{index}]: {exc}") from None
        return networks
    raise ConfigError(f"company_subnets: expected a file path or a list of CIDRs, got {raw!r}")


def _first_error_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"]) or "config"
    if error["type"] == "extra_forbidden":
        return f"{location}: unknown key (value {error['input']!r})"
    if error["type"] == "missing":
        return f"{location}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, (dict, list)) or "'" in message:
        return f"{location}: {message}"
    return f"{location}: {message} (value {value!r})"


def config_from_dict(raw: Any, config_dir: Path | None = None) -> PipelineConfig:
    """Validate an already parsed YAML document; relative paths resolve against `config_dir`
    (the config file's folder) when given, else against the working directory."""
    if not isinstance(raw, dict):
        raise ConfigError(f"config: expected a mapping at the top level, got {type(raw).__name__}")
    from smb_pipeline.alerts.reference import alerts_document

    if "company_subnet_labels" in raw:
        raise ConfigError(f"company_subnet_labels: unknown key (value {raw['company_subnet_labels']!r})")
    document = _with_resolved_paths(dict(raw), config_dir)
    labelled = _load_subnets(document.get("company_subnets"), config_dir)
    document["company_subnets"] = [network for network, _ in labelled]
    document["company_subnet_labels"] = {str(network): label for network, label in labelled if label}
    document["alerts"] = alerts_document(document.get("alerts"), lambda path: resolve_path(path, config_dir))
    try:
        return PipelineConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_first_error_line(exc)) from None


def load_config(path: str | os.PathLike[str]) -> PipelineConfig:
    """Read and validate a YAML config file; every problem is a one-line `ConfigError`."""
    config_path = Path(path)
    raw, _ = read_yaml_file(config_path, "config")
    return config_from_dict(raw, config_path.parent.resolve())


def demo_config_path() -> Path:
    """The demo's configuration, shipped inside the package (with its subnets file beside it)."""
    return Path(str(resources.files("smb_pipeline") / "demo" / "data" / "demo.yaml"))


def parse_day(text: str, field: str) -> dt.date:
    """Parse a YYYY-MM-DD day given on the command line."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{field}: not a date in YYYY-MM-DD form (value {text!r})") from None
