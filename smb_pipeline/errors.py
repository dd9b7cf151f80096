"""Errors the command line turns into one-line messages and exit codes."""


class ConfigError(ValueError):
    """The configuration is invalid; the message names the field and the value (exit code 2)."""


class InputError(ValueError):
    """An input archive cannot be read as its format says; the message names source, file and column."""
