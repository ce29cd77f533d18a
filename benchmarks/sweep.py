"""Benchmark: ``nt.sweep`` against the case study's sequential loop of ``model.fit`` calls.

For each case (the MLP with K = 6, 24 and 96 members, the CNN with K = 6), both sides
train the same members (initializer x learning rate x seed) for the same epochs on the
offline MNIST subset (3,000 training images, batch 64), in one process:

* **sequential**: for each member, build the model alone, ``compile``, ``fit`` with the
  validation split, ``evaluate`` on the test split, the loop the case study runs. It is
  fed the sweep's batch order (:func:`nntrain.sweeps.batch_order`), so that both sides
  train each member on the very same batches and their accuracies can be compared one to
  one. For K = 96 only every 8th member is trained alone and the time is scaled by 8
  (marked ``est.``). K = 24, the case to track, runs twice (shared machines are noisy) and
  the last line gives the mean of the two.
* **sweep**: one ``nt.sweep`` call, from building the members to the test metrics.

The speed-up is the ratio of the two wall times, everything included (building,
compiling, training, validating, testing). ``matmul_fraction`` is the sweep's useful
FLOP/s (the matrix products of forward and backward passes, validation and test; no
padding, no optimizer arithmetic) over the machine's dense float32 matrix-product rate,
measured in the same run, at its start and its end, as the best of a few big square
products (``keras.ops.matmul`` and NumPy's, whichever is faster). It is
taken over the steady epochs (all but the first, which includes compiling); the table
also shows it over the whole call.

Run from the repository root (about 5 minutes on two cores under TensorFlow; ``--quick``: about one)::

    python benchmarks/sweep.py
    python benchmarks/sweep.py --quick

The last line reads ``K=24 speedup=<ratio> matmul_fraction=<fraction>`` (the MLP).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

# The case study's six initializers, and four learning rates per optimizer.
INITS = ["zeros", "random_normal", "random_uniform", "xavier_uniform", "xavier_normal", "he_normal"]
RATES = {"sgd": [0.01, 0.03, 0.1, 0.3], "adam": [1e-4, 3e-4, 1e-3, 3e-3]}
BATCH = 64  # the case study's batch size
MATMUL_SIZES = (1024, 2048, 3072)  # square float32 products that saturate the machine


def matmul_rate() -> float:
    """The machine's dense float32 matrix-product rate in FLOP/s: the best of a few large
    square products, through the Keras backend (``keras.ops.matmul``) and through NumPy's
    BLAS, whichever is faster."""
    import keras

    best = 0.0
    rng = np.random.default_rng(0)
    for n in MATMUL_SIZES:
        a_np, b_np = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
        a, b = keras.ops.convert_to_tensor(a_np), keras.ops.convert_to_tensor(b_np)
        products = (lambda: keras.ops.convert_to_numpy(keras.ops.matmul(a, b)),
                    lambda: a_np @ b_np)
        for product in products:
            product()  # warm up
            for _ in range(3):
                start = time.perf_counter()
                product()
                best = max(best, 2 * n**3 / (time.perf_counter() - start))
    return best


def flops(model) -> tuple[float, float]:
    """(forward, training) matrix-product FLOPs per example of one model built alone.

    Training is forward + weight gradient + input gradient, each as costly as the
    forward product, but the first layer needs no input gradient.
    """
    import keras

    forward, first = [], True
    training = 0.0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            f = 2.0 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, _ = layer.output.shape
            kh, kw, c, filters = layer.kernel.shape
            f = 2.0 * h * w * kh * kw * c * filters
        else:
            continue
        forward.append(f)
        training += f * (2 if first else 3)
        first = False
    return sum(forward), training


def same_batches(data, epochs: int, seed: int = 0):
    """A tf.data pipeline of the sweep's mini-batches, epoch after epoch."""
    import tensorflow as tf

    from nntrain.sweeps import batch_order

    n = len(data.x_train)
    orders = np.stack([batch_order(n, e, seed) for e in range(1, epochs + 1)]).astype(np.int32)
    x, y = tf.constant(data.x_train), tf.constant(data.y_train)
    batches = tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(BATCH))
    return batches.map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx))).prefetch(2)


def sequential(builder, data, members, optimizer: str, epochs: int) -> tuple[float, list[float]]:
    """Train ``members`` (rows of init, learning_rate, seed) one after another."""
    import nntrain as nt

    accuracies = []
    start = time.perf_counter()
    for init, rate, seed in members:
        model = builder(data.input_shape, data.num_classes, init=init, seed=int(seed))
        nt.models.compile_for(model, data, nt.optimizers.get(optimizer, learning_rate=rate))
        model.fit(same_batches(data, epochs), epochs=epochs, verbose=0,
                  steps_per_epoch=math.ceil(len(data.x_train) / BATCH),
                  validation_data=(data.x_val, data.y_val))
        scores = model.evaluate(data.x_test, data.y_test, batch_size=BATCH, verbose=0,
                                return_dict=True)
        accuracies.append(scores["accuracy"])
    return time.perf_counter() - start, accuracies


def run_case(name, data, inits, rates, seeds, optimizer, epochs, sample):
    import nntrain as nt
    from nntrain.sweeps import sweep

    builder = {"mlp": nt.models.mlp, "cnn": nt.models.cnn}[name]
    result = sweep(name, data, inits=inits, learning_rates=rates, seeds=seeds,
                            optimizer=optimizer, epochs=epochs, batch_size=BATCH, verbose=0)
    table = result.table
    k = len(table)
    chosen = table.iloc[::sample]
    seq_s, seq_acc = sequential(builder, data, chosen[["init", "learning_rate", "seed"]].values,
                                optimizer, epochs)
    seq_s *= k / len(chosen)

    forward, training = flops(builder(data.input_shape, data.num_classes, seed=0))
    n_train, n_val, n_test = len(data.x_train), len(data.x_val), len(data.x_test)
    per_epoch = k * (n_train * training + n_val * forward)
    total = epochs * per_epoch + k * n_test * forward
    epoch_s = result.timings["epoch_s"]
    steady = per_epoch * (len(epoch_s) - 1) / sum(epoch_s[1:]) if len(epoch_s) > 1 else float("nan")
    diff = np.abs(chosen["test_accuracy"].to_numpy() - np.asarray(seq_acc))
    return {
        "K": k, "model": name, "epochs": epochs,
        "sequential s": f"{seq_s:.1f}" + (" est." if sample > 1 else ""),
        "sweep s": f"{result.wall_time_s:.1f}",
        "speedup": seq_s / result.wall_time_s,
        "sweep GFLOP/s": steady / 1e9,
        "whole call GFLOP/s": total / result.wall_time_s / 1e9,
        "max |acc diff|": diff.max(),
        "accuracies": list(zip(chosen["member"], chosen["init"], chosen["learning_rate"],
                               chosen["seed"], seq_acc, chosen["test_accuracy"])),
        "timings": result.timings,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="K = 24 MLP only, 3 epochs, "
                        "6 of the 24 members trained alone (time scaled by 4)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the MLP cases")
    parser.add_argument("--optimizer", default="sgd", choices=sorted(RATES),
                        help="plain SGD (default) or Adam, with their own four learning rates")
    args = parser.parse_args(argv)

    import keras

    import nntrain as nt

    nt.setup(0)
    data = nt.data.load("mnist", profile="book")
    peak = matmul_rate()
    print(f"backend {keras.backend.backend()}, data {data.source}, "
          f"{len(data.x_train)}/{len(data.x_val)}/{len(data.x_test)} examples, batch {BATCH}, "
          f"optimizer {args.optimizer}")

    epochs = 3 if args.quick else args.epochs
    rates = RATES[args.optimizer]
    if args.quick:
        cases = [("mlp", INITS, rates, [0], epochs, 4)]
    else:
        cases = [
            ("mlp", INITS, rates[2:3], [0], epochs, 1),         # K = 6
            ("mlp", INITS, rates, [0], epochs, 1),              # K = 24
            ("mlp", INITS, rates, [0], epochs, 1),              # K = 24 again (noise)
            ("mlp", INITS, rates, [0, 1, 2, 3], epochs, 8),     # K = 96, every 8th alone
            ("cnn", INITS, rates[2:3], [0], 2, 1),              # K = 6, 2 epochs
        ]
    rows = []
    for name, inits, rates, seeds, case_epochs, sample in cases:
        row = run_case(name, data, inits, rates, seeds, args.optimizer, case_epochs, sample)
        rows.append(row)
        print(f"\n{name} K={row['K']}, {case_epochs} epochs: test accuracy per member "
              "(member, init, learning rate, seed: sequential / sweep)")
        for member, init, rate, seed, alone, swept in row["accuracies"]:
            print(f"  {member:3d} {init:15s} {rate:7.0e} {seed}: {alone:.4f} / {swept:.4f}")
        timings = row["timings"]
        print(f"  sweep: build {timings['build_s']:.1f} s, epochs "
              + ", ".join(f"{t:.2f}" for t in timings["epoch_s"]) + f" s, test {timings['test_s']:.1f} s")

    import pandas as pd

    # measured again at the end, the best of both: a busy moment must not flatter the sweep
    peak = max(peak, matmul_rate())
    print(f"\ndense float32 matmul rate of this machine: {peak / 1e9:.1f} GFLOP/s")
    for row in rows:
        row["matmul_fraction"] = row["sweep GFLOP/s"] * 1e9 / peak
        row["fraction (whole call)"] = row["whole call GFLOP/s"] * 1e9 / peak
    columns = ["K", "model", "epochs", "sequential s", "sweep s", "speedup", "max |acc diff|",
               "sweep GFLOP/s", "matmul_fraction", "fraction (whole call)"]
    frame = pd.DataFrame(rows)[columns]
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    tracked = frame[(frame.K == 24) & (frame.model == "mlp")]  # the mean of its runs
    print(f"K=24 speedup={tracked.speedup.mean():.2f} matmul_fraction={tracked.matmul_fraction.mean():.2f}")


if __name__ == "__main__":
    main()
