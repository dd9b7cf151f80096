"""Notebooks are valid, hold no logic of their own, and use the package's public entry points."""

from __future__ import annotations

import ast
import json
from pathlib import Path

NOTEBOOKS = sorted(Path(__file__).resolve().parents[1].joinpath("notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


def test_notebook_cells_parse_and_define_nothing():
    for notebook in NOTEBOOKS:
        cells = json.loads(notebook.read_text())["cells"]
        code = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in cells if c["cell_type"] == "code"]
        assert any("import" in cell and "smb_pipeline" in cell for cell in code), notebook
        for cell in code:
            tree = ast.parse(cell)
            definitions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))]
            assert definitions == [], f"{notebook.name}: logic belongs in smb_pipeline, not in a notebook"
