"""Compare two lakes table by table with delta-rs: for refactorings that must not change any output.

    python -m bench.compare_lakes OLD_LAKE NEW_LAKE

Run the old and the new commit on the same generated archive (e.g. `smb-pipeline demo --workdir`
from each checkout), then compare. Columns that differ by construction between two runs (run
ids, commit times, the moment a row was computed) are left out; every other column of every
row must be equal. Exits 1 and prints the first differences when a table differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from deltalake import DeltaTable

from smb_pipeline.alerts.schema import ALERTS_TABLE, TIMESTAMPS
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE

TABLES = (PAIRS_TABLE, REJECTS_TABLE, ALERTS_TABLE)
# Set per run, not per input: when the alert was created and last updated.
RUN_COLUMNS = set(TIMESTAMPS)


def _rows(path: Path) -> tuple[list[str], list[tuple]]:
    """The table's rows as sorted tuples of text; the lake's parent directory (the workdir the
    archives are in, too) reads as `<workdir>`, so that file paths compare across workdirs."""
    table = DeltaTable(str(path)).to_pyarrow_table()
    columns = sorted(name for name in table.column_names if name not in RUN_COLUMNS)
    workdir = str(path.parent.parent.resolve())
    rows = [tuple(repr(value).replace(workdir, "<workdir>") for value in row.values())
            for row in table.select(columns).to_pylist()]
    return columns, sorted(rows)


def compare(old: Path, new: Path) -> list[str]:
    problems = []
    for name in TABLES:
        if not (old / name).exists() and not (new / name).exists():
            continue
        old_columns, old_rows = _rows(old / name)
        new_columns, new_rows = _rows(new / name)
        if old_columns != new_columns:
            problems.append(f"{name}: columns differ: {old_columns} vs {new_columns}")
            continue
        only_old = sorted(set(old_rows) - set(new_rows))
        only_new = sorted(set(new_rows) - set(old_rows))
        status = "equal" if not only_old and not only_new and len(old_rows) == len(new_rows) else "DIFFERENT"
        print(f"{name}: {len(old_rows)} vs {len(new_rows)} rows, {len(old_columns)} columns compared: {status}")
        if status != "equal":
            problems.append(f"{name}: {len(only_old)} rows only in old, {len(only_new)} only in new; "
                            f"first old {only_old[:1]}, first new {only_new[:1]}")
    return problems


def main(argv: list[str]) -> int:
    old, new = (Path(arg) for arg in argv)
    problems = compare(old, new)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
