"""The deploy examples stay in step with the repository: they parse, and they point at the real job.

Airflow is not needed: the DAG file is read with `ast`, never imported.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
from pathlib import Path

import pytest

from smb_pipeline.cli.commands import resolve_days, yesterday_utc
from smb_pipeline.config import load_config
from smb_pipeline.engine.session import DELTA_MAVEN_PACKAGE

REPO = Path(__file__).resolve().parents[1]
JOB = "jobs/smb_traffic_allowed.py"
DAG_FILE = REPO / "deploy" / "airflow" / "smb_pipeline_dag.py"
DATABRICKS_JOB = REPO / "deploy" / "databricks" / "job.json"
DATABRICKS_CONFIG = REPO / "conf" / "databricks.yaml"
OPERATIONS_DOC = REPO / "docs" / "operations_cluster.md"


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = "text"` / f-string assignments, resolved in order."""
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(ValueError):
                names[node.targets[0].id] = _text(node.value, names)
    return names


def _text(node: ast.expr, names: dict[str, str]) -> str:
    """The value of a string constant, a module-level name or an f-string of those."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.FormattedValue) and node.format_spec is None:
        return _text(node.value, names)
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(part, names) for part in node.values)
    raise ValueError(f"not a static string: {ast.dump(node)}")


@pytest.fixture(scope="module")
def dag_operator():
    source = DAG_FILE.read_text()
    compile(source, str(DAG_FILE), "exec")
    tree = ast.parse(source, str(DAG_FILE))
    names = _module_strings(tree)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "SparkSubmitOperator"]
    assert len(calls) == 1, "the DAG should submit the job with exactly one SparkSubmitOperator"
    return tree, names, {kw.arg: kw.value for kw in calls[0].keywords}


def test_dag_imports_the_spark_provider_operator(dag_operator):
    tree, _, _ = dag_operator
    imports = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for alias in node.names}
    assert ("airflow.providers.apache.spark.operators.spark_submit", "SparkSubmitOperator") in imports


def test_dag_application_is_the_job_in_this_repo(dag_operator):
    _, names, kwargs = dag_operator
    application = _text(kwargs["application"], names)
    assert application.endswith(JOB), application
    assert (REPO / JOB).is_file()


def test_dag_passes_config_and_the_logical_date(dag_operator):
    _, names, kwargs = dag_operator
    args = [_text(item, names) for item in kwargs["application_args"].elts]
    assert "--config" in args and "--date" in args, args
    assert args[args.index("--config") + 1]
    assert args[args.index("--date") + 1].replace(" ", "") == "{{ds}}", args


def test_dag_ships_delta_and_the_package(dag_operator):
    _, names, kwargs = dag_operator
    assert _text(kwargs["packages"], names) == DELTA_MAVEN_PACKAGE
    assert _text(kwargs["py_files"], names).endswith((".zip", ".whl", ".egg"))


def test_dag_is_nightly_without_catchup_and_with_retries():
    tree = ast.parse(DAG_FILE.read_text())
    dag_call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name) and node.func.id == "DAG")
    kwargs = {kw.arg: kw.value for kw in dag_call.keywords}
    assert isinstance(kwargs["catchup"], ast.Constant) and kwargs["catchup"].value is False
    assert "schedule" in kwargs
    default_args = {key.value: value for key, value in zip(kwargs["default_args"].keys,
                                                          kwargs["default_args"].values, strict=True)}
    assert ast.literal_eval(default_args["retries"]) >= 1


def test_databricks_job_runs_the_repo_job_with_a_config_and_a_wheel():
    job = json.loads(DATABRICKS_JOB.read_text())
    assert job["schedule"]["quartz_cron_expression"].split()[0:3] == ["0", "0", "2"]
    assert job["schedule"]["timezone_id"] == "UTC"
    (task,) = job["tasks"]
    python_task = task["spark_python_task"]
    assert python_task["python_file"].endswith("/" + JOB)
    assert (REPO / JOB).is_file()
    parameters = python_task["parameters"]
    assert "--config" in parameters and "--date" in parameters
    config = parameters[parameters.index("--config") + 1]
    assert config.endswith("conf/databricks.yaml") and DATABRICKS_CONFIG.is_file()
    assert "spark_version" in task["new_cluster"]
    assert any(library.get("whl", "").endswith(".whl") for library in task["libraries"])


def test_databricks_config_validates_without_delta_packages():
    config = load_config(DATABRICKS_CONFIG)
    assert config.delta_packages is False
    paths = [source.path for source in config.sources] + [config.output.path]
    assert all(path.startswith(("s3a://", "abfss://")) for path in paths), paths
    assert config.company_subnets


def test_operations_doc_names_the_deploy_files():
    text = OPERATIONS_DOC.read_text()
    for name in ("deploy/airflow/smb_pipeline_dag.py", "deploy/databricks/job.json", "conf/databricks.yaml",
                 DELTA_MAVEN_PACKAGE, "--py-files", "--archives"):
        assert name in text, name


def test_an_empty_date_means_yesterday_utc():
    """job.json passes `--date {{job.parameters.date}}`, empty by default: the nightly day."""
    config = load_config(DATABRICKS_CONFIG)
    start, end = resolve_days(argparse.Namespace(date="", start=None, end=None), config)
    assert end == yesterday_utc()
    assert (end - start).days == config.reprocess_days
