"""Every format's rows, staged as a run stages them, run in code the JIT compiles.

The JVM's JIT does not compile a method over 8,000 bytes of bytecode: a generated-code stage
above that runs every row it reads through the interpreter, about twice as slow. Checked from
the scan through each format's normalization and the validation to the status and the
company-subnet join, on a few seed rows of every format (the code depends on the plan, not on
the rows). Engine-version detail, so `perf`-marked: not part of `make test`.
"""

from __future__ import annotations

import datetime as dt

import pytest

from smb_pipeline.config import config_from_dict
from smb_pipeline.run.outputs import company_flagged
from smb_pipeline.run.staging import stage_sources
from smb_pipeline.sources.reader import read_source
from tests.formats.seeds import SEEDS
from tests.plans import generated_stages

DAY = dt.date(2026, 1, 15)
JIT_LIMIT = 8000


@pytest.mark.perf
@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_stage_of_a_formats_staged_rows_is_small_enough_for_the_jit(spark, tmp_path, name):
    ddl, rows = SEEDS[name]
    archive_path = tmp_path / name
    spark.createDataFrame(rows, ddl).write.parquet(str(archive_path / f"dt={DAY}"))
    config = config_from_dict({"sources": [{"name": "fw", "format": name, "path": str(archive_path)}],
                               "company_subnets": ["10.0.0.0/8"], "output": {"path": str(tmp_path / "lake")}})
    archive = read_source(spark, config.sources[0], DAY, DAY)
    stages = generated_stages(company_flagged(stage_sources([archive], config, DAY, DAY).frame, config))
    assert len(stages) >= 7, stages  # the scan, the normalization and the validation's steps
    assert [(plan.splitlines()[0][:100], size) for plan, size in stages if size >= JIT_LIMIT] == []
