"""The format declarations are the one source of their names: docs/formats.md's tables are
rendered from them, every `columns:` key is documented, and the declarations check themselves.
Pure Python: no Spark session."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pyspark.sql import functions as F

import smb_pipeline.formats
from smb_pipeline.formats import FORMATS
from smb_pipeline.formats.base import Fields
from smb_pipeline.formats.declarative import allowed_words
from smb_pipeline.formats.docs import BEGIN, END, current_tables
from smb_pipeline.formats.spec import Field, VendorSpec

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
SHARED = {"base", "spec", "declarative", "text", "times", "docs"}


def test_docs_tables_are_rendered_from_the_declarations():
    text = DOCS.read_text()
    assert BEGIN in text and END in text
    documented = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert documented == current_tables(), "docs/formats.md is stale: run `python -m smb_pipeline.formats.docs`"


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_columns_key_and_default_column_is_documented(name):
    rows = [line for line in current_tables().splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 2
    for logical, defaults in FORMATS[name].fields.items():
        for column in defaults:
            assert f"`{column}`" in " ".join(rows), f"{name}: field {logical!r} column {column!r} not in the docs"


def test_every_format_is_declared_as_data():
    assert all(fmt.spec is not None and fmt.spec.fields == fmt.fields for fmt in FORMATS.values())


def test_vendor_modules_import_only_the_shared_helpers():
    """Shared helpers (syslog time, CSV fields) live in the shared modules, not in a vendor."""
    folder = Path(smb_pipeline.formats.__file__).parent
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        vendors = {m.rsplit(".", 1)[1] for m in imported if m.startswith("smb_pipeline.formats.")} - SHARED
        assert not vendors or path.stem == "__init__", f"{path.name} imports vendor module(s) {vendors}"


def test_a_field_a_format_does_not_declare_fails_at_once():
    fields = Fields("panos", "src1", {"src": "src", "serial": None})
    assert fields.has("src") and not fields.has("serial")
    with pytest.raises(KeyError, match="declares no field 'srcip'"):
        fields.col("srcip")
    with pytest.raises(KeyError):
        fields.type("srcip")


def test_a_declaration_checks_its_required_fields_and_alternatives():
    with pytest.raises(ValueError, match="required fields not declared"):
        VendorSpec(name="x", description="", columns={"src_ip": "src", "dest_port": "p"}, required=("dst",))
    with pytest.raises(ValueError, match="different columns"):
        VendorSpec(name="x", description="", columns={"src_ip": Field("a", "b"), "dest_ip": Field("a", "c")},
                   required=(), prefilter=lambda fields, context: F.lit(True))
    with pytest.raises(ValueError, match="needs `dest_port` read from one field"):
        VendorSpec(name="x", description="", columns={"dest_port": ("a", "b")}, required=())
    spec = VendorSpec(name="x", description="", columns={"dvc": ("a", Field("b", "c")), "rule": "a", "dest_port": "p"},
                      required=("a",), unused=("z",))
    assert spec.fields == {"a": ("a",), "b": ("b", "c"), "p": ("p",), "z": ("z",)}


def test_session_ends_pass_the_prefilter_only_where_the_core_can_count_them():
    # FortiGate: a close record is allowed alone, or a teardown of a keyed session.
    assert {"close", "timeout", "accept", "start"} <= allowed_words(FORMATS["fortigate"].spec)
    # CIM has no session key: a teardown is never counted, so the prefilter drops it.
    assert allowed_words(FORMATS["cim"].spec) == {"allowed"}
    assert allowed_words(FORMATS["ecs"].spec) == frozenset()
