"""Errors a user can act on: each message is one line naming what to fix."""


class RosettaError(Exception):
    """Base class: the CLI prints the message alone, without a traceback."""


class LakeConfigError(RosettaError):
    """The lake URL or its settings cannot work as given."""


class SettingsError(RosettaError):
    """An environment variable holds a value that cannot be read (a word where a number belongs, an unknown mode)."""


class LakeAccessError(RosettaError):
    """The store answered, but refused or lacks what we need (bucket, credentials, permissions)."""


class SchemaMismatchError(RosettaError):
    """A table does not match its dataset's declared schema."""


class ConcurrentWriteError(RosettaError):
    """Another writer kept replacing the same object while we tried to merge into it."""


class MappingValidationError(RosettaError):
    """Mapping entries were rejected; `problems` holds one reason per rejected entry or field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} mapping problem(s): {shown}{more}")
