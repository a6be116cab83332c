"""The example study file a user copies to start their own (``study example my_study.toml``).

``example.toml`` beside this module is package data: a commented study on Fashion-MNIST with the default
study's learning recipe, two experiments, margins, a budget check and one claim of several kinds. The README's
"Your own study" documents every key it uses; tests/declare/test_example.py parses it.

    write_example(Path("my_study.toml"))   # -> Path("my_study.toml"); refuses to overwrite a file
"""

from __future__ import annotations

from pathlib import Path

from study.errors import ConfigError

EXAMPLE = Path(__file__).with_name("example.toml")


def write_example(path: Path) -> Path:
    """Copy the example study file to ``path``; one ConfigError line if something is already there."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise ConfigError(
            f"{path} already exists; choose another name (the example never overwrites)"
        )
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(EXAMPLE.read_text(encoding="utf-8"))
    except FileExistsError:
        raise ConfigError(
            f"{path} already exists; choose another name (the example never overwrites)"
        ) from None
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err.strerror or err}") from None
    return path
