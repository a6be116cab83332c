"""The one exception type users see: a one-line message, no traceback."""


class StudyError(ValueError):
    """Bad input (data, config, study file, store). The CLI prints ``str(err)`` alone and exits 2."""


class DataError(StudyError):
    """A dataset is missing, unreadable or corrupt."""


class ConfigError(StudyError):
    """A model or training configuration is impossible or unknown."""
