"""Packaging for smb_pipeline; `pip install -e .[dev]` gives the library, the CLI and the test tools."""

from pathlib import Path

from setuptools import find_packages, setup

version = {}
exec(Path("smb_pipeline/__init__.py").read_text(), version)

setup(
    name="smb_pipeline",
    version=version["__version__"],
    description="Daily Delta tables of allowed SMB traffic from firewall-log archives, on Spark",
    long_description=Path("README.md").read_text() if Path("README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # demo/data holds files, not modules: listed as a package of its own so that setuptools
    # ships it on purpose rather than warning that an importable folder is left out.
    packages=[*find_packages(include=["smb_pipeline", "smb_pipeline.*"]), "smb_pipeline.demo.data"],
    include_package_data=True,
    # `smb-pipeline demo` works from an installed wheel: its config and subnets ship inside the package.
    package_data={"smb_pipeline.demo.data": ["*.yaml", "*.txt"], "smb_pipeline": ["alerts/*.yaml"]},
    install_requires=[
        "pyarrow==21.0.0",
        "pyyaml==6.0.3",
        "pydantic==2.13.4",
    ],
    extras_require={
        # Spark and Delta come with the platform on Databricks and EMR; a wheel installed there
        # must not replace them, so they are an extra. Delta 4.0.x is built for Spark 4.0.x
        # (Delta's compatibility table); the jar version is pinned in smb_pipeline/engine/session.py.
        "spark": [
            "pyspark==4.0.1",
            "delta-spark==4.0.1",
        ],
        # `--remote sc://HOST:PORT` / `spark_remote`: pyspark's Spark Connect client (gRPC, pandas).
        # On Databricks use databricks-connect instead (it replaces pyspark; see the README).
        "connect": [
            "pyspark[connect]==4.0.1",
            "pandas>=2.2,<3",  # pyspark 4.0 is tested with pandas 2
        ],
        # `smb-pipeline report` draws its charts with matplotlib (inline SVG).
        "bi": [
            "matplotlib==3.11.2",
        ],
        "dev": [
            "pytest==9.2.0",
            "deltalake==1.1.4",
            "ruff==0.17.6",
            "mypy==2.4.1",
            # the analysts' path: report charts, a HiveServer2 client for the serve-sql test
            # (impyla brings thrift, thrift-sasl and pure-sasl: no C build), notebooks run headless
            "matplotlib==3.11.2",
            "impyla==0.24.0",
            "papermill==2.7.0",
            "ipykernel==7.4.0",
        ],
        "bench": [
            "duckdb==2.0.1",
            "psutil==7.2.2",
        ],
    },
    entry_points={"console_scripts": ["smb-pipeline=smb_pipeline.cli:main"]},
)
