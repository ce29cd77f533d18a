"""nntrain._files.atomic_write: a write killed midway leaves the old file whole."""

from __future__ import annotations

import numpy as np
import pytest

from nntrain._files import atomic_write


class Killed(Exception):
    pass


def test_bytes_text_and_writers(tmp_path):
    assert atomic_write(tmp_path / "a", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert atomic_write(tmp_path / "b", "é").read_text(encoding="utf-8") == "é"
    atomic_write(tmp_path / "c.npz", lambda f: np.savez(f, x=np.arange(3)))
    with np.load(tmp_path / "c.npz") as arrays:
        np.testing.assert_array_equal(arrays["x"], np.arange(3))


def test_a_write_killed_midway_leaves_the_old_file_and_no_stray(tmp_path):
    target = atomic_write(tmp_path / "result.json", '{"old": true}')

    def half_then_die(file):
        file.write(b'{"new": tr')
        raise Killed

    with pytest.raises(Killed):
        atomic_write(target, half_then_die)
    assert target.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]
