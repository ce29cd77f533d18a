"""Benchmark: how long the explorers' live face takes to redraw after a control moves.

The target (the explorers' issue): a redraw takes at most 50 ms when the data is
precomputed. For each explorer of ``nntrain.widgets`` this script makes the explorer once,
then moves its main control through its values many times, as a reader dragging a slider
would, and times each move from setting the control's value to the new frame being in the
``ipywidgets.Image`` (``Explorer.redraw``: filter the precomputed tables, update the
artists, blit them over the kept background, encode the JPEG frame). It also prints the size of
each explorer's static twin, the HTML that goes into the website's page.

* ``lr``: ``explore_learning_rate()`` with its defaults (3 surfaces x 33 rates x 50 steps),
  moving the learning-rate slider.
* ``opt``: ``explore_optimizers()`` with its defaults (6 optimizers x 3 surfaces x 7 rates),
  moving the learning-rate slider.
* ``sweep``: ``explore_sweep()`` on a SweepResult of the explorers page's shape
  (2 initializers x 3 rates x 2 seeds x 10 epochs), made up rather than trained, since
  the redraw only reads its tables; moving the learning-rate slider.
* ``init``: ``explore_initialization()`` on MNIST with the page's grid (3 initializers x 3
  activations x depths 3 and 10), every combination computed first (as the static twin
  does), moving the depth control; the first computation of a combination, which the live
  face does behind a progress bar, is timed separately (``compute``).

Run from the repository root (about a minute on two cores)::

    python benchmarks/widgets.py
    python benchmarks/widgets.py --moves 50

The last line reads ``redraw_ms median=<worst median> p95=<worst p95> target=50``.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd


def _fake_sweep(seeds: int = 2, epochs: int = 10):
    """A SweepResult with the explorers page's shape; its numbers are made up."""
    import nntrain as nt

    rng = np.random.default_rng(0)
    rows = []
    for init, rate, seed, epoch in itertools.product(["xavier_normal", "he_normal"],
                                                     [0.01, 0.1, 1.0], range(seeds),
                                                     range(1, epochs + 1)):
        loss = 2.3 / epoch ** (rate * 3) + 0.05 * rng.random()
        rows.append({"init": init, "learning_rate": rate, "seed": seed, "epoch": epoch,
                     "loss": loss, "accuracy": 1 - loss / 2.4, "val_loss": loss * 1.1,
                     "val_accuracy": 1 - loss * 1.1 / 2.4})
    history = pd.DataFrame(rows)
    table = history[history["epoch"] == epochs].drop(columns="epoch").assign(diverged=False)
    return nt.SweepResult(table=table.reset_index(drop=True), history=history,
                          config={"hyperparameters": ["init", "learning_rate", "seed"]})


def _moves(explorer, control: str, moves: int) -> np.ndarray:
    """Seconds per move of ``control`` through its values, back and forth."""
    options = [o[1] if isinstance(o, tuple) else o for o in explorer.controls[control].options]
    sequence = options + options[-2:0:-1]
    times = []
    for value in itertools.islice(itertools.cycle(sequence[1:] + sequence[:1]), moves):
        start = time.perf_counter()
        explorer.controls[control].value = value
        times.append(time.perf_counter() - start)
    return np.asarray(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=100, help="control moves per explorer")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import nntrain as nt
    from nntrain import widgets

    cfg = nt.setup(profile="smoke")
    rows = []

    def measure(name, make, control):
        start = time.perf_counter()
        explorer = make()
        made = time.perf_counter() - start
        start = time.perf_counter()
        page = len(explorer.static_html().encode())
        twin = time.perf_counter() - start
        seconds = _moves(explorer, control, args.moves) * 1e3
        rows.append({"explorer": name, "moves": len(seconds), "median ms": np.median(seconds),
                     "p95 ms": np.percentile(seconds, 95), "max ms": seconds.max(),
                     "make s": made, "static twin s": twin, "twin kB": page / 1e3})
        return explorer

    measure("lr", widgets.explore_learning_rate, "learning_rate")
    measure("opt", widgets.explore_optimizers, "learning_rate")
    measure("sweep", lambda: widgets.explore_sweep(_fake_sweep(cfg.seeds)), "learning_rate")
    data = nt.load("mnist")
    init = measure("init", lambda: widgets.explore_initialization(data, depths=(3, 10)), "depth")
    start = time.perf_counter()
    init.compute("he_normal", "relu", 7)
    compute = time.perf_counter() - start

    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print(f"first computation of a new initialization combination (live, behind a progress bar): "
          f"{compute:.2f} s")
    print(f"redraw_ms median={frame['median ms'].max():.1f} p95={frame['p95 ms'].max():.1f} target=50")


if __name__ == "__main__":
    main()
