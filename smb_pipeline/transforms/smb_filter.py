"""The detection's core predicate: the traffic was allowed, and it was SMB."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import Column
from pyspark.sql import functions as F


def is_allowed(action: Column, session_key: Column) -> Column:
    """Allowed traffic. A teardown counts only as part of a session logged in several records,
    where it carries the session's bytes; the connection is still counted once."""
    return (action == "allowed") | ((action == "teardown") & session_key.isNotNull())


def is_smb(dest_port: Column, app: Column, ports: Iterable[int], apps: Iterable[str]) -> Column:
    """SMB by destination port, or by an application name (a comma list such as Zeek's `service`)."""
    app_names = F.split(F.lower(F.trim(app)), r"\s*,\s*")
    app_list = F.array(*[F.lit(name) for name in sorted(set(apps))]) if apps else F.array().cast("array<string>")
    by_app = F.coalesce(F.arrays_overlap(app_names, app_list), F.lit(False))
    return F.coalesce(dest_port.isin(list(ports)), F.lit(False)) | by_app


def is_allowed_smb(df_action: Column, session_key: Column, dest_port: Column, app: Column,
                   ports: Iterable[int], apps: Iterable[str]) -> Column:
    return F.coalesce(is_allowed(df_action, session_key), F.lit(False)) & is_smb(dest_port, app, ports, apps)
