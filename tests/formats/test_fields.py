"""The prefilter's building blocks on a few rows: never stricter than the normalizers, whatever
shortcut they take."""

from __future__ import annotations

import itertools
import random

from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StringType

from smb_pipeline.formats import FORMATS
from smb_pipeline.formats.base import Fields, FormatContext, _without_superstrings, spelled_parts

ROWS = [("allowed", "smb"), (" ALLOWED ", "MS-DS-SMB"), ("Allowed", "gssapi,Smb,krb"), ("allowedx", "netbios-SS"),
        ("blocked", "http"), (None, None)]


def _fields() -> Fields:
    return Fields("test", "src", {"action": "action", "app": "app"},
                  {"action": StringType(), "app": StringType()})


def test_text_values_match_in_any_case_and_padding_exact_or_not(spark):
    frame = spark.createDataFrame(ROWS, "action string, app string")
    matched = frame.filter(_fields().isin("action", ("allowed",))).select("action").collect()
    assert [row.action for row in matched] == ["allowed", " ALLOWED ", "Allowed"]


def test_integer_values_on_a_text_column_are_read_as_numbers(spark):
    frame = spark.createDataFrame([("445",), (" 0445",), ("80",)], "port string")
    fields = Fields("test", "src", {"port": "port"}, {"port": StringType()})
    assert [row.port for row in frame.filter(fields.isin("port", (139, 445))).collect()] == ["445", " 0445"]
    typed = spark.createDataFrame([(445,), (80,)], "port int")
    fields = Fields("test", "src", {"port": "port"}, {"port": IntegerType()})
    assert [row.port for row in typed.filter(fields.isin("port", (445,))).collect()] == [445]


def test_an_app_field_mentions_any_id_in_any_case_or_list(spark):
    frame = spark.createDataFrame(ROWS, "action string, app string")
    matched = frame.filter(_fields().mentions("app", ("smb", "ms-ds-smb", "netbios-ss"))).select("app").collect()
    assert [row.app for row in matched] == ["smb", "MS-DS-SMB", "gssapi,Smb,krb", "netbios-SS"]


def test_an_id_is_found_in_every_spelling_without_lower_casing_each_row(spark):
    """Each element that lower-cases to an id, alone, in a list or padded, in every mix of cases
    (and 'k' as the Kelvin sign, which Spark lower-cases to 'k'), is found; other texts are not."""
    ids = ("smb", "netbios-ss", "kerberos")
    rng = random.Random(7)
    spellings = [*("".join(cases) for cases in itertools.product(*[(c, c.upper()) for c in "smb"])),
                 *("".join(rng.choice((c, c.upper())) for c in value) for value in ids for _ in range(20)),
                 "\u212aerberos", "gssapi, NetBios-Ss ,krb", " SMB "]
    others = ["sm b", "netbios-ns", "s-m-b", "kerbero", "ms-rdp", ""]
    rows = [(text, text in spellings) for text in spellings + others]
    frame = spark.createDataFrame(rows, "app string, named boolean")
    mentioned = _fields().mentions("app", ids)
    assert "lower" not in str(mentioned)
    assert frame.filter(mentioned != F.col("named")).collect() == []


def test_letters_that_lower_case_to_ascii_from_other_scripts_are_spelled_too(spark):
    """Spark lower-cases the Kelvin sign to 'k' and, under a Turkish or Azeri JVM locale, a dotted
    capital I (alone or as I + combining dot) to 'i': the core would match such an element, so the
    prefilter must too, whatever the JVM's locale."""
    texts = ["SMB\u212a", "nbsess\u0130on", "NBSESSI\u0307ON", "smbx", "nbsessxon"]
    frame = spark.createDataFrame([(text,) for text in texts], "app string")
    matched = frame.filter(_fields().mentions("app", ("smbk", "nbsession"))).collect()
    assert sorted(row.app for row in matched) == sorted(texts[:3])


def test_an_ids_part_is_its_end_in_every_spelling():
    assert spelled_parts("netbios-ss") == ["-SS", "-Ss", "-sS", "-ss"]
    assert sorted(spelled_parts("smb")) == sorted("".join(c) for c in itertools.product("sS", "mM", "bB"))
    assert sorted(spelled_parts("ok")) == sorted(["OK", "O\u212a", "Ok", "oK", "o\u212a", "ok"])


def test_an_id_in_another_script_is_matched_by_spark_lower_casing(spark):
    frame = spark.createDataFrame([("ΣΜΒ",), ("smb",)], "app string")
    assert [row.app for row in frame.filter(_fields().mentions("app", ("σμβ",))).collect()] == ["ΣΜΒ"]


def test_ids_that_contain_another_need_no_test_of_their_own():
    assert _without_superstrings({"smb", "ms-ds-smb", "netbios-ss"}) == ["netbios-ss", "smb"]
    assert _without_superstrings({"smb2", "cifs"}) == ["cifs", "smb2"]


def test_the_derived_prefilter_tests_smb_before_the_verdict():
    """Spark evaluates a conjunction left to right and stops at the first false: with the rare
    SMB test first, the verdict's text test runs on a few percent of the rows, not on most."""
    fields = Fields("test", "src", {"_time": "_time", "src_ip": "src_ip", "dest_ip": "dest_ip",
                                    "dest_port": "dest_port", "app": "app", "action": "action"},
                    {"_time": StringType(), "src_ip": StringType(), "dest_ip": StringType(),
                     "dest_port": IntegerType(), "app": StringType(), "action": StringType()})
    context = FormatContext(source="src", timezone="UTC", smb_ports=(139, 445), smb_apps=("smb",))
    predicate = str(FORMATS["cim"].prefilter(fields, context))
    assert predicate.index("dest_port") < predicate.index("action"), predicate
