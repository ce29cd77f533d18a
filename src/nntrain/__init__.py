"""nntrain: the package behind the course *How neural networks are trained*.

Every chapter and lab starts with::

    import nntrain as nt
    cfg = nt.setup()          # seeds, determinism, quiet logs, plot style; returns the profile

and then calls into the modules re-exported here. The modules are layered: a module only
imports from the floors below it (see DESIGN.md).

floor 1  profiles, data, descent   run profiles and seeding; data sets; plain gradient descent
"""

import os as _os

# TensorFlow prints C++ start-up lines (oneDNN notices, CUDA probes) when it is first
# imported. They must be silenced before Keras imports it, so this happens here, at the
# very top of the package, and only as defaults: a value the user set wins.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN's fused kernels change float rounding from run to run and print a notice; the
# course prefers bit-for-bit reproducible numbers over the last few percent of speed.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from . import data, descent, profiles  # noqa: E402
from .data import Dataset, DataUnavailableError, load  # noqa: E402
from .profiles import PROFILES, Profile, get_profile, setup  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "PROFILES",
    "DataUnavailableError",
    "Dataset",
    "Profile",
    "data",
    "descent",
    "get_profile",
    "load",
    "profiles",
    "setup",
]
