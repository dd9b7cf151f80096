"""Config validation: every mistake is one line naming the field and the value; no Spark needed."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from smb_pipeline.config import config_from_dict, load_config, parse_day
from smb_pipeline.errors import ConfigError


def _base(**overrides):
    document = {
        "sources": [{"name": "perimeter", "format": "cim", "path": "/data/cim"}],
        "company_subnets": ["10.0.0.0/8"],
        "output": {"path": "/lake/smb"},
    }
    document.update(overrides)
    return document


def test_valid_config_has_defaults():
    config = config_from_dict(_base())
    assert config.exclude_company == "source"
    assert config.smb.ports == (139, 445)
    assert "smb" in config.smb.apps
    assert config.company_subnets == (ipaddress.ip_network("10.0.0.0/8"),)
    assert config.output.table_path("smb_allowed_daily") == "/lake/smb/smb_allowed_daily"
    assert config.reprocess_days == 2


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"colour": "blue"}, "colour: unknown key"),
        ({"company_subnets": ["10.0.0.0/33"]}, "company_subnets[0]: '10.0.0.0/33' is not a valid CIDR"),
        ({"company_subnets": ["10.0.0.1/8"]}, "company_subnets[0]: '10.0.0.1/8'"),
        ({"exclude_company": "sideways"}, "exclude_company"),
        ({"sources": []}, "sources"),
        ({"sources": [{"name": "a", "format": "netflow", "path": "/x"}]}, "sources.0.format: unknown format 'netflow'"),
        ({"sources": [{"name": "a", "format": "cim", "path": "/x", "colour": 1}]}, "sources.0.colour: unknown key"),
        ({"sources": [{"name": "a", "format": "cim", "path": "/x"}, {"name": "a", "format": "cim", "path": "/y"}]},
         "duplicate source name 'a'"),
        ({"sources": [{"name": "a", "format": "cim", "path": "/x", "timezone": "Mars/Olympus"}]},
         "unknown time zone 'Mars/Olympus'"),
        ({"sources": [{"name": "a", "format": "cim", "path": "/x", "columns": {"nope": "x"}}]},
         "columns: 'nope' is not a field of format 'cim'"),
        ({"smb": {"ports": [445, 70000]}}, "smb.ports"),
        ({"output": {}}, "output.path: required key is missing"),
        ({"company_subnets": "/no/such/subnets.txt"}, "company_subnets: file not found"),
    ],
)
def test_invalid_config_is_one_line_naming_the_field(overrides, expected):
    with pytest.raises(ConfigError) as error:
        config_from_dict(_base(**overrides))
    message = str(error.value)
    assert expected in message
    assert "\n" not in message


def test_subnet_file_with_comments_and_both_families(tmp_path):
    subnets = tmp_path / "subnets.txt"
    subnets.write_text("# company\n10.0.0.0/8   # core\n\n2001:db8::/32\n0.0.0.0/0\n::/0\n192.0.2.1/32\n")
    config = config_from_dict(_base(company_subnets=str(subnets)))
    assert [str(n) for n in config.company_subnets] == [
        "10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0", "::/0", "192.0.2.1/32"]


def test_bad_line_in_subnet_file_names_file_and_line(tmp_path):
    subnets = tmp_path / "subnets.txt"
    subnets.write_text("10.0.0.0/8\nnot-a-cidr\n")
    with pytest.raises(ConfigError, match=r"subnets.txt line 2: 'not-a-cidr' is not a valid CIDR"):
        config_from_dict(_base(company_subnets=str(subnets)))


def test_load_config_resolves_subnet_file_beside_the_config(tmp_path):
    (tmp_path / "subnets.txt").write_text("10.0.0.0/8\n")
    config_file = tmp_path / "c.yaml"
    config_file.write_text(textwrap.dedent("""
        sources: [{name: p, format: cim, path: /data}]
        company_subnets: subnets.txt
        output: {path: /lake}
        spark: {spark.sql.shuffle.partitions: 4, spark.ui.enabled: false}
    """))
    config = load_config(config_file)
    assert config.company_subnets == (ipaddress.ip_network("10.0.0.0/8"),)
    assert config.spark == {"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false"}


def test_invalid_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_bad_date():
    with pytest.raises(ConfigError, match=r"--date: not a date in YYYY-MM-DD form \(value '2026-13-01'\)"):
        parse_day("2026-13-01", "--date")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smb_pipeline.cli", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_bad_config_exits_2_with_one_line(tmp_path):
    config_file = tmp_path / "c.yaml"
    config_file.write_text("sources: [{name: p, format: cim, path: /data}]\noutput: {path: /lake}\nextra: 1\n")
    result = _cli("run", "--config", str(config_file), "--date", "2026-11-27")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["smb-pipeline: config error: extra: unknown key (value 1)"]


def test_cli_bad_date_exits_2(tmp_path):
    config_file = tmp_path / "c.yaml"
    config_file.write_text("sources: [{name: p, format: cim, path: /data}]\noutput: {path: /lake}\n")
    result = _cli("run", "--config", str(config_file), "--start", "2026-11-01", "--end", "yesterday")
    assert result.returncode == 2
    assert "--end: not a date" in result.stderr


def test_cli_help_and_version():
    assert "run" in _cli("--help").stdout
    for command in ("run", "generate", "demo"):
        assert "--help" in _cli(command, "--help").stdout
    version = _cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("smb-pipeline ")


def test_relative_paths_resolve_beside_the_config_file(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "subnets.txt").write_text("10.0.0.0/8\n")
    (project / "c.yaml").write_text(textwrap.dedent("""
        sources:
          - {name: a, format: cim, path: archive/a}
          - {name: b, format: cim, path: s3a://bucket/b}
          - {name: c, format: cim, path: /data/c}
        company_subnets: subnets.txt
        output: {path: ../lake}
    """))
    monkeypatch.chdir(tmp_path)  # anywhere but the config's folder
    config = load_config("project/c.yaml")
    assert [s.path for s in config.sources] == [str(project / "archive" / "a"), "s3a://bucket/b", "/data/c"]
    assert config.output.path == str(tmp_path / "lake")
    assert config.company_subnets == (ipaddress.ip_network("10.0.0.0/8"),)


def test_subnet_file_is_not_looked_up_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "subnets.txt").write_text("10.0.0.0/8\n")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "c.yaml").write_text("sources: [{name: a, format: cim, path: x}]\n"
                                              "company_subnets: subnets.txt\noutput: {path: lake}\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"company_subnets: file not found: 'subnets.txt' \(resolved beside"):
        load_config("conf/c.yaml")


def _model_keys(model) -> set[str]:
    """Every key path a config model accepts: 'smb.ports', 'sources.name', ..."""
    from pydantic import BaseModel

    keys = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue  # filled from reference files, not a key of the YAML
        keys.add(name)
        annotation = field.annotation
        nested = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        for inner in nested:
            if issubclass(inner, BaseModel):
                keys |= {f"{name}.{key}" for key in _model_keys(inner)}
    return keys


def _document_keys(document, prefix="") -> set[str]:
    keys = set()
    for name, value in document.items():
        keys.add(prefix + name)
        if name in ("spark", "columns", "base", "direction_bonus"):
            continue  # free-form mappings: Spark settings, column renames, scores per detection/direction
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                keys |= _document_keys(item, f"{prefix}{name}.")
    return keys


def test_example_config_lists_every_key_and_is_valid():
    import yaml

    from smb_pipeline.config import PipelineConfig

    example = Path(__file__).resolve().parents[1] / "conf" / "example.yaml"
    assert _document_keys(yaml.safe_load(example.read_text())) == _model_keys(PipelineConfig)
    load_config(example)  # and it validates, company_subnets resolved beside it


def test_shipped_demo_config_loads_from_anywhere(tmp_path, monkeypatch):
    from smb_pipeline.config import demo_config_path

    monkeypatch.chdir(tmp_path)
    config = load_config(demo_config_path())
    assert len(config.sources) >= 6 and config.company_subnets


def test_a_dict_config_reads_relative_files_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    document = {"sources": [{"name": "a", "format": "cim", "path": "archive"}], "company_subnets": "nets.txt",
                "output": {"path": "lake"}}
    with pytest.raises(ConfigError, match=r"file not found: 'nets.txt' \(resolved in the working directory: "
                                          + re.escape(repr(str(tmp_path / "nets.txt")))):
        config_from_dict(document)
    (tmp_path / "nets.txt").write_text("10.0.0.0/8\n")
    config = config_from_dict(document)
    assert (config.sources[0].path, config.output.path) == (str(tmp_path / "archive"), str(tmp_path / "lake"))
    assert config.company_subnets == (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize("config_dir", [None, "folder"])
def test_an_empty_path_is_refused_not_read_as_a_folder(tmp_path, config_dir):
    folder = tmp_path / "conf" if config_dir else None
    base = {"sources": [{"name": "a", "format": "cim", "path": "archive"}], "output": {"path": "lake"}}
    with pytest.raises(ConfigError, match=r"^output\.path: "):
        config_from_dict({**base, "output": {"path": ""}}, folder)
    with pytest.raises(ConfigError, match=r"^sources\.0\.path: "):
        config_from_dict({**base, "sources": [{"name": "a", "format": "cim", "path": ""}]}, folder)
    assert config_from_dict({**base, "alerts": {"special_ranges": ""}}, folder).alerts.special_ranges == ""  # no file
