"""How much nt.train's own batch stream costs against Keras's shuffled arrays.

``nt.train`` feeds ``fit`` the batches of :func:`nntrain.training.epoch_batches` (a new
order every epoch, :func:`nntrain.data.batch_order`) instead of letting Keras shuffle the
arrays, because Keras's shuffle under TensorFlow repeats one order every epoch once a
global seed is set. This script trains the same MLP on the offline MNIST subset both ways,
interleaved (arrays, stream, arrays, stream, ...), and prints the ratio of the median
epoch times. Run from the repository root:

    .venv/bin/python benchmarks/train_input.py            # about 1 minute on 2 cores
    KERAS_BACKEND=jax .venv/bin/python benchmarks/train_input.py
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import keras  # noqa: E402

import nntrain as nt  # noqa: E402
from nntrain.training import epoch_batches  # noqa: E402

EPOCHS, BATCH, ROUNDS = 4, 64, 3


class _EpochTimes(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def _fit(data, stream: bool, record: _EpochTimes) -> None:
    model = nt.models.mlp(data.input_shape, seed=0)
    nt.models.compile_for(model, data, nt.optimizers.SGD(0.05))
    if stream:
        inputs = {"x": epoch_batches(data, BATCH, 0, range(1, EPOCHS + 1)), "shuffle": False,
                  "steps_per_epoch": math.ceil(len(data.x_train) / BATCH)}
    else:
        inputs = {"x": data.x_train, "y": data.y_train, "batch_size": BATCH}
    record.times = []
    model.fit(**inputs, epochs=EPOCHS, validation_data=(data.x_val, data.y_val), verbose=0,
              callbacks=[record])


def main() -> None:
    nt.setup(0, "book")
    data = nt.data.load("mnist", profile="book")
    times = {"arrays": [], "stream": []}
    for _ in range(ROUNDS):
        for name in times:
            record = _EpochTimes()
            _fit(data, name == "stream", record)
            times[name].extend(record.times[1:])  # the first epoch compiles
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"backend={keras.backend.backend()} train={len(data.x_train)} batch={BATCH} "
          f"epochs measured={len(times['arrays'])} per side")
    for name, median in medians.items():
        print(f"  {name:7s} median epoch {median * 1000:7.1f} ms")
    print(f"stream/arrays={medians['stream'] / medians['arrays']:.2f}")


if __name__ == "__main__":
    main()
