"""nntrain: the package behind the course *How neural networks are trained*.

Every chapter and lab starts with::

    import nntrain as nt
    cfg = nt.setup()          # seeds, determinism, quiet logs, plot style; returns the profile

and then calls into the modules re-exported here. The modules are layered: a module only
imports from the floors below it (see DESIGN.md).

floor 1  profiles, data, descent, backprop,  run profiles and seeding; data sets; gradient
         gradcheck, published, surfaces,     descent in NumPy; a scalar autodiff engine;
         tasks                              gradient checking and a NumPy two-layer network;
                                            published results the labs reproduce; 2-D loss
                                            surfaces; synthetic sequence tasks (the adding
                                            problem)
floor 2  initializers, optimizers, schedules Keras initializers, optimizers written from
                                            scratch, learning-rate schedules
floor 3  models, diagnostics, propagation    model builders; gradient, activation, update and
                                            divergence monitors; signal propagation through
                                            depth (variances, histograms, Jacobian spectra)
floor 4  training, resume, sweeps,          one run with a tidy record (``nt.train``) that
         distribute, colab, lr_finder        resumes after a disconnect; a whole grid trained
                                            at once (``nt.sweep``); TPU/GPU/CPU strategy;
                                            the labs' Colab set-up; the learning-rate range
                                            test
floor 5  search, playground, compare,        grid and random search over sweeps; a 2-D
         plots, widgets, check               playground; optimizers compared fairly, each at
                                            its tuned rate; shared matplotlib figures; the
                                            explorers (ipywidgets with a static Vega-Lite
                                            twin for the website); exercise checkers, one
                                            module per notebook (``nt.check.exercise``)

``nt.sweep`` is the function and ``nt.SweepResult`` its result; they live in the package
``nntrain.sweeps`` (plural, so that ``import nntrain.sweeps.layers`` is never shadowed by
the function; DESIGN.md's floor-4 module ``sweep``).
"""

import os as _os

# TensorFlow prints C++ start-up lines (oneDNN notices, CUDA probes) when it is first
# imported. They must be silenced before Keras imports it, so this happens here, at the
# very top of the package, and only as defaults: a value the user set wins.
# Level 3 (fatal only): TF 2.21's tf.data logs a harmless C++ "E0000 ... NodeDef mentions
# attribute use_unbounded_threadpool" line on every Keras fit with validation data, and
# level 2 lets such ERROR lines through. Python exceptions are unaffected.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# oneDNN's fused kernels change float rounding from run to run and print a notice; the
# course prefers bit-for-bit reproducible numbers over the last few percent of speed.
# The variable is read once, when TensorFlow loads: if it was imported before nntrain (say by
# `import keras` first) with oneDNN on, setting it now changes nothing, so say so.
if "tensorflow" in __import__("sys").modules and _os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
    import warnings as _warnings

    _warnings.warn(
        "nntrain: TensorFlow was imported before nntrain with its oneDNN kernels on, whose "
        "rounding varies from run to run, so results may not repeat exactly. Import nntrain "
        "first, or set TF_ENABLE_ONEDNN_OPTS=0 before importing keras or tensorflow.",
        RuntimeWarning, stacklevel=2)
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

# The package's version, its one source: pyproject.toml reads it (setuptools' `attr:`), and a
# release's labs install the tag v<version> (nntrain.colab.release_ref).
__version__ = "0.1.0"

from . import (  # noqa: E402
    backprop,
    check,
    compare,
    data,
    descent,
    diagnostics,
    distribute,
    gradcheck,
    initializers,
    lr_finder,
    models,
    optimizers,
    playground,
    plots,
    profiles,
    propagation,
    published,
    resume,
    schedules,
    search,
    surfaces,
    sweeps,
    tasks,
    training,
)
from .data import Dataset, DataUnavailableError, load  # noqa: E402
from .profiles import PROFILES, Profile, get_profile, setup  # noqa: E402
from .training import Run, train  # noqa: E402

from .sweeps import SweepResult, sweep  # noqa: E402

# The explorers import ipywidgets, which costs seconds to import: nt.widgets is imported on
# first use (PEP 562), so notebooks without an explorer never pay for it. nt.colab too: it is
# also a command (`python -m nntrain.colab`), which must not be imported before it runs.
_LAZY = ("colab", "widgets")


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'nntrain' has no attribute {name!r}")


__all__ = [
    "PROFILES",
    "DataUnavailableError",
    "Dataset",
    "Profile",
    "Run",
    "SweepResult",
    "backprop",
    "check",
    "colab",
    "compare",
    "data",
    "descent",
    "diagnostics",
    "distribute",
    "gradcheck",
    "get_profile",
    "initializers",
    "load",
    "lr_finder",
    "models",
    "optimizers",
    "playground",
    "plots",
    "profiles",
    "propagation",
    "published",
    "resume",
    "schedules",
    "search",
    "surfaces",
    "setup",
    "sweep",
    "sweeps",
    "tasks",
    "train",
    "training",
    "widgets",
]
