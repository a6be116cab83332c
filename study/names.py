"""Names from a study file made safe as file and folder names.

An experiment name, a value label or a dataset name may hold anything a TOML string holds: ``/``,
``..``, an absolute path, NUL, HTML, thousands of characters, or differ from another name only in
case. ``path_name`` turns each into one path component that stays inside its folder on every file
system and that no other name maps to:

- a name that is already safe (lower-case ASCII letters, digits and ``_.=+-``, at most 64 characters,
  not starting with ``.`` or ``-``, not ending with ``.``, not a Windows device name, not ending like a
  hash) is kept as it is, so ``kernel_size`` stays ``kernel_size``;
- any other name becomes ``safe_name``: a readable slug plus a short hash of the exact name, so two
  names never share a file, not even names differing only in case on a case-insensitive file system.

The two sets never meet: every hashed name ends in ``-`` and 8 hex digits, and no kept name does.

    >>> path_name("kernel_size"), path_name("lr/momentum"), path_name("LR")
    ('kernel_size', 'lr_momentum-6969a9b7', 'LR-096d92ee')
"""

from __future__ import annotations

import hashlib
import re

SLUG_LENGTH = 48  # characters of the readable part; the whole name stays far below 255 bytes
HASH_LENGTH = 8  # hex digits of sha256: a collision needs ~65,000 names in one folder
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")
_KEPT = re.compile(r"[a-z0-9_=+]([a-z0-9_.=+-]{0,62}[a-z0-9_=+-])?")
_HASHED = re.compile(r".*-[0-9a-f]{8}")
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul"} | {
    f"{d}{i}" for d in ("com", "lpt") for i in range(10)
}


def safe_name(text: str, slug_length: int = SLUG_LENGTH) -> str:
    """One safe path component for ``text``: ``<slug>-<hash>``, ASCII letters, digits and ``._=+-`` only.

    The slug keeps the name readable (runs of other characters become ``_``; leading and trailing dots,
    dashes and underscores are removed, so never ``..`` or a hidden file; at most ``slug_length``
    characters); the hash is of the exact text (UTF-8, case kept). Never empty, never ``.`` or ``..``,
    never a separator or NUL.

    >>> safe_name("../../etc/passwd")
    'etc_passwd-3754d6cb'
    """
    slug = _UNSAFE.sub("_", text)[:slug_length].strip("._-") or "name"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LENGTH]
    return f"{slug}-{digest}"


def path_name(text: str) -> str:
    """``text`` itself when it is already a safe, case-proof file name, else ``safe_name(text)``."""
    kept = (
        _KEPT.fullmatch(text)
        and not _HASHED.fullmatch(text)
        and text.split(".")[0] not in _WINDOWS_DEVICES
    )
    return text if kept else safe_name(text)
