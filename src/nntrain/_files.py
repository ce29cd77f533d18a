"""Atomic writes: a file is either its old self or its new self, never half of each.

Every file the package writes that a later run reads back (a sweep's saved result, the
state of a backup, the claims ledger) goes through :func:`atomic_write`: the bytes go to a
temporary file beside the target, are flushed to the disk, and the temporary file then
replaces the target in one ``os.replace``, which POSIX and Windows make atomic within a
folder. A run killed mid-write (a Colab session that disconnects, a SIGKILL) leaves the
previous file intact, plus at most a stray ``.tmp`` file that the next write replaces.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike, data: bytes | str | Callable[[BinaryIO], object]) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring).

    Args:
        path: the file to write; its folder must exist.
        data: bytes, text (written as UTF-8), or a function that writes to an open binary
            file (such as ``lambda f: np.savez_compressed(f, **arrays)``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as file:
            if callable(data):
                data(file)
            else:
                file.write(data.encode("utf-8") if isinstance(data, str) else data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
