"""The Thrift Server's command line, without starting it: class path, metastore, bind address."""

from __future__ import annotations

import socket

import pytest

from smb_pipeline.bi.thrift import Endpoint, check_port_free, server_command
from smb_pipeline.config import config_from_dict
from smb_pipeline.errors import ConfigError

JARS = ["file:///ivy/jars/io.delta_delta-spark_2.13-4.0.1.jar", "file:///ivy/jars/io.delta_delta-storage-4.0.1.jar"]


def _config(tmp_path, **spark):
    return config_from_dict({"sources": [{"name": "s", "format": "cim", "path": "/in"}],
                             "output": {"path": str(tmp_path / "lake")}, "spark": spark})


def _conf(command: list[str]) -> dict[str, str]:
    pairs = [command[i + 1] for i, arg in enumerate(command) if arg == "--conf"]
    return dict(pair.split("=", 1) for pair in pairs)


def test_delta_jars_go_on_the_driver_class_path_and_derby_under_the_output(tmp_path):
    command = server_command(_config(tmp_path, **{"spark.driver.extraJavaOptions": "-Xss4m"}),
                             Endpoint("127.0.0.1", 10001, "smb"), JARS, "local[2]")
    class_path = command[command.index("--driver-class-path") + 1]
    assert class_path.split(":") == [jar.removeprefix("file://") for jar in JARS]
    assert "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2" in command
    assert command[-4:] == ["--hiveconf", "hive.server2.thrift.bind.host=127.0.0.1",
                            "--hiveconf", "hive.server2.thrift.port=10001"]
    conf = _conf(command)
    assert conf["spark.sql.catalog.spark_catalog"] == "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    assert f"databaseName={tmp_path / 'lake' / '_metastore' / 'metastore_db'};" in \
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert conf["spark.driver.extraJavaOptions"].startswith("-Xss4m -Dderby.system.home=")
    assert "spark.jars.packages" not in conf


def test_an_external_metastore_in_the_config_replaces_derby(tmp_path):
    config = _config(tmp_path, **{"spark.hadoop.hive.metastore.uris": "thrift://127.0.0.1:9083"})
    conf = _conf(server_command(config, Endpoint("127.0.0.1", 10001, "smb"), JARS, "local[2]"))
    assert conf["spark.hadoop.hive.metastore.uris"] == "thrift://127.0.0.1:9083"
    assert "spark.hadoop.javax.jdo.option.ConnectionURL" not in conf


def test_a_busy_port_is_a_config_error_before_anything_starts():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ConfigError, match=r"--port: cannot listen on 127\.0\.0\.1"):
            check_port_free("127.0.0.1", busy.getsockname()[1])
    with pytest.raises(ConfigError, match="--port"):
        check_port_free("127.0.0.1", 70000)


def test_the_jdbc_url_names_host_port_and_database():
    endpoint = Endpoint("127.0.0.1", 10000, "smb")
    assert endpoint.jdbc_url == "jdbc:hive2://127.0.0.1:10000/smb"
    assert endpoint.beeline().endswith("bin/beeline -u jdbc:hive2://127.0.0.1:10000/smb")
