"""Errors the command line turns into one-line messages and exit codes."""


class ConfigError(ValueError):
    """The configuration is invalid; the message names the field and the value (exit code 2)."""


class InputError(ValueError):
    """An input archive cannot be read as its format says; the message names source, file and column."""


class StorageError(RuntimeError):
    """The output cannot be written (path, permissions, Delta missing from the session): exit code 3."""


class ConcurrencyError(StorageError):
    """Another run holds some of the run's days (or won a race for them): exit code 3."""


class RunTerminated(Exception):  # noqa: N818 - a signal, not an error of the run
    """SIGTERM or SIGINT stopped the run at a safe point; the exit code is 128 + the signal number."""

    def __init__(self, signal_name: str, signal_number: int) -> None:
        super().__init__(f"terminated by {signal_name}")
        self.signal_name = signal_name
        self.exit_code = 128 + signal_number
