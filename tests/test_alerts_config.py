"""The alerts' reference data and config keys: labels, special ranges, allowlist; errors exit 2."""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import sys
import textwrap

import pytest

from smb_pipeline.alerts.special_ranges import shipped_registry
from smb_pipeline.config import config_from_dict
from smb_pipeline.errors import ConfigError


def _base(**overrides):
    document = {
        "sources": [{"name": "perimeter", "format": "cim", "path": "/data/cim"}],
        "company_subnets": ["10.0.0.0/8"],
        "output": {"path": "/lake/smb"},
    }
    document.update(overrides)
    return document


def _write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_alert_defaults_are_the_issues():
    alerts = config_from_dict(_base()).alerts
    assert alerts.enabled is True
    assert (alerts.detections.new_pair.lookback_days, alerts.detections.new_pair.min_history_days) == (35, 7)
    assert alerts.detections.new_pair.directions == ("inbound", "outbound", "internal")
    assert alerts.detections.smb_fanout.min_destinations == 20
    spike = alerts.detections.volume_spike
    assert (spike.baseline_days, spike.k, spike.min_connections, spike.min_history_days) == (28, 6.0, 50, 7)
    assert alerts.allowlist_entries == ()


def test_subnet_labels_from_file_and_inline(tmp_path):
    subnets = _write(tmp_path / "subnets.txt", """\
        # company
        10.20.0.0/16  dc1-servers
        10.30.0.0/16\tbranch office   # a comment
        192.168.0.0/16
        """)
    config = config_from_dict(_base(company_subnets=subnets))
    assert config.company_subnets == tuple(ipaddress.ip_network(n) for n in
                                           ("10.20.0.0/16", "10.30.0.0/16", "192.168.0.0/16"))
    assert config.company_subnet_labels == {"10.20.0.0/16": "dc1-servers", "10.30.0.0/16": "branch office"}
    inline = config_from_dict(_base(company_subnets=["10.0.0.0/8", {"cidr": "2001:db8:c0::/48", "label": "v6"}]))
    assert inline.company_subnet_labels == {"2001:db8:c0::/48": "v6"}
    assert "company_subnet_labels" not in inline.model_dump()


def test_shipped_special_ranges_name_their_registry_and_cover_the_families():
    registry = shipped_registry()
    assert registry.version and isinstance(registry.date, dt.date)
    cidrs = {str(r.network) for r in registry.ranges}
    for cidr in ("10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "192.0.0.0/24", "198.18.0.0/15",
                 "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::1/128",
                 "::ffff:0:0/96", "64:ff9b::/96", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32"):
        assert cidr in cidrs
    assert all(r.name and r.rfc for r in registry.ranges)
    assert [str(r.network) for r in registry.ranges if r.as_ipv4] == ["::ffff:0:0/96"]


def test_user_special_ranges_add_to_the_shipped(tmp_path):
    extra = _write(tmp_path / "special.yaml", """\
        ranges:
          - {cidr: 100.100.0.0/16, name: lab, rfc: internal}
        """)
    config = config_from_dict(_base(alerts={"special_ranges": extra}))
    assert str(config.alerts.special_range_entries[-1].network) == "100.100.0.0/16"
    assert len(config.alerts.special_range_entries) == len(shipped_registry().ranges) + 1


def test_allowlist_is_read_with_defaults(tmp_path):
    allowlist = _write(tmp_path / "allow.yaml", """\
        - id: partner-backup
          src: 198.51.100.0/24
          dest_ports: [445]
          reason: nightly backup from the partner
          owner: storage-team
          expires: 2026-11-15
        - id: scanner
          dest: 10.9.0.0/16
          detections: [smb_fanout]
          reason: vulnerability scanner
          owner: secops
        """)
    entries = config_from_dict(_base(alerts={"allowlist": allowlist})).alerts.allowlist_entries
    assert [e.id for e in entries] == ["partner-backup", "scanner"]
    assert entries[0].expires == dt.date(2026, 11, 15) and entries[0].dest_ports == (445,)
    assert entries[0].detections is None and entries[1].detections == ("smb_fanout",)
    assert (entries[0].line, entries[1].line) == (1, 7)
    assert entries[0].expired_on(dt.date(2026, 11, 16)) and not entries[0].expired_on(dt.date(2026, 11, 15))


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("- {id: a, reason: r, owner: o}", "line 1 (entry a): names none of src, dest, dest_ports"),
        ("- {id: a, src: 10.0.0.1/8, reason: r, owner: o}", "line 1 (entry a): src is not a valid CIDR"),
        ("- {id: a, src: 10.0.0.0/8, reason: r, owner: o, colour: red}", "unknown key 'colour' (value 'red')"),
        ("- {id: a, src: 10.0.0.0/8, owner: o}", "reason is required"),
        ("- {id: a, src: 10.0.0.0/8, reason: r}", "owner is required"),
        ("- {id: a, dest_ports: [99999], reason: r, owner: o}", "dest_ports: 99999 is not a port"),
        ("- {id: a, src: 10.0.0.0/8, detections: [nope], reason: r, owner: o}", "'nope' is not a detection"),
        ("- {id: a, src: 10.0.0.0/8, reason: r, owner: o, expires: soon}", "expires is not a date"),
        ("- {id: a, src: 10.0.0.0/8, reason: r, owner: o}\n- {id: a, dest: 10.0.0.0/8, reason: r, owner: o}",
         "line 2 (entry a): duplicate id"),
    ],
)
def test_bad_allowlist_names_file_line_entry_and_value(tmp_path, entry, expected):
    allowlist = _write(tmp_path / "allow.yaml", entry + "\n")
    with pytest.raises(ConfigError) as error:
        config_from_dict(_base(alerts={"allowlist": allowlist}))
    message = str(error.value)
    assert message.startswith(f"alerts.allowlist: {allowlist} ") and expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("alerts", "expected"),
    [
        ({"detections": {"new_pair": {"lookback_days": 0}}}, "alerts.detections.new_pair.lookback_days"),
        ({"detections": {"smb_fanout": {"min_destination": 3}}}, "alerts.detections.smb_fanout.min_destination: "
                                                                 "unknown key"),
        ({"detections": {"new_pair": {"directions": ["sideways"]}}}, "alerts.detections.new_pair.directions"),
        ({"scoring": {"base": {"nope": 1}}}, "'nope' is not a detection"),
        ({"allowlist": "/no/such/allow.yaml"}, "alerts.allowlist: file not found"),
        ({"special_ranges": "/no/such.yaml"}, "alerts.special_ranges: file not found"),
        ({"allowlist_entries": []}, "alerts.allowlist_entries: unknown key"),
    ],
)
def test_bad_alert_keys_are_one_line(alerts, expected):
    with pytest.raises(ConfigError) as error:
        config_from_dict(_base(alerts=alerts))
    assert expected in str(error.value)


def test_bad_special_range_names_file_and_line(tmp_path):
    text = "ranges:\n  - {cidr: 10.0.0.0/8, name: a}\n  - {cidr: 300.1.0.0/16, name: b}\n"
    extra = _write(tmp_path / "special.yaml", text)
    with pytest.raises(ConfigError, match=r"special.yaml line 3 \(range 1\): cidr .*'300.1.0.0/16'"):
        config_from_dict(_base(alerts={"special_ranges": extra}))


def test_bad_labelled_subnet_line_is_named(tmp_path):
    subnets = _write(tmp_path / "subnets.txt", "10.0.0.0/8 corp\n10.1.2.3/16 oops\n")
    with pytest.raises(ConfigError, match=r"subnets.txt line 2: '10.1.2.3/16'"):
        config_from_dict(_base(company_subnets=subnets))


def test_allowlist_error_exits_2_from_the_command_line(tmp_path):
    allowlist = _write(tmp_path / "allow.yaml", "- {id: x, src: 10.0.0.0/33, reason: r, owner: o}\n")
    config = _write(tmp_path / "c.yaml", f"""\
        sources: [{{name: p, format: cim, path: {tmp_path}/in}}]
        output: {{path: {tmp_path}/lake}}
        alerts: {{allowlist: allow.yaml}}
        """)
    result = subprocess.run([sys.executable, "-m", "smb_pipeline.cli", "run", "--config", config, "--date",
                             "2026-11-01", "--log-file", str(tmp_path / "log")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"smb-pipeline: config error: alerts.allowlist: {allowlist} line 1 (entry x): src is not a valid CIDR "
        "(value '10.0.0.0/33')"]


def test_shipped_ranges_load_when_the_package_runs_from_a_py_files_zip(tmp_path):
    """spark-submit --py-files ships the package as a zip: its data files have no path there."""
    import subprocess
    import sys
    from pathlib import Path

    import smb_pipeline
    from tests.standalone_cluster import zip_package

    archive = zip_package(Path(smb_pipeline.__file__).parent, tmp_path / "smb_pipeline.zip")
    probe = (f"import smb_pipeline; assert smb_pipeline.__file__.startswith({str(archive)!r}); "
             "from smb_pipeline.alerts.special_ranges import shipped_ranges_path, read_special_ranges; "
             "print(len(read_special_ranges(shipped_ranges_path()).ranges))")
    done = subprocess.run([sys.executable, "-c", probe], env={"PYTHONPATH": str(archive)}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) > 20
