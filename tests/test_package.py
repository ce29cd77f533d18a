"""The package's public surface: every module is exported, and heavy ones load lazily."""

import subprocess
import sys

import nntrain as nt


def test_every_name_in_all_is_reachable():
    for name in nt.__all__:
        assert getattr(nt, name) is not None, name


def test_importing_nntrain_does_not_import_the_explorers_libraries():
    code = ("import sys, nntrain as nt; assert 'ipywidgets' not in sys.modules; "
            "nt.widgets; assert 'ipywidgets' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_only_a_static_twin_imports_altair():
    """Altair is the book extra's: the explorers work live without it (as on Colab)."""
    code = ("import sys, nntrain as nt; nt.widgets; assert 'altair' not in sys.modules; "
            "nt.widgets._static.csv_data(__import__('pandas').DataFrame({'a': [1.0]})); "
            "assert 'altair' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_attribute_raises_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nt.nope


def _start(code: str, **env) -> subprocess.CompletedProcess:
    import os

    environ = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    environ.update(KERAS_BACKEND="tensorflow", **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=True)


def test_tensorflow_imported_first_with_onednn_on_is_warned_about():
    message = "TensorFlow was imported before nntrain with its oneDNN kernels on"
    assert message in _start("import keras, nntrain").stderr
    assert message not in _start("import nntrain, keras").stderr  # nntrain set it in time
    assert message not in _start("import keras, nntrain", TF_ENABLE_ONEDNN_OPTS="0").stderr
