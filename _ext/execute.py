"""Execute the book's notebooks side by side into the book's jupyter-cache, before the build.

Jupyter Book 1 executes notebooks one after another while Sphinx reads them, and its
``jupyter-book build`` has no option for parallel reading (nor would every extension it loads
allow one). A kernel running one of this course's notebooks keeps about one core busy (small
models: the time goes to Python, not to matrix products), so on two cores two notebooks run
side by side in about the time of one. This script does that with jupyter-cache, the library
myst-nb's ``cache`` execution mode reads (``execute_notebooks: cache`` in ``_config.yml``):

1. with ``--fresh``, the cache is emptied first, so that every notebook runs again and its
   outputs match the package as it is now (``make book`` and ``make test-book`` do this; the
   Pages workflow keeps its cache between builds instead, see ``.github/workflows/pages.yml``);
2. every notebook without a cached run of its current code is executed, ``--workers`` at a
   time, in its own folder, under this process's environment (the run profile, the seed, the
   backend and the claims ledger's folder all pass to the kernels);
3. the build then finds every notebook in the cache and only renders it, with the execution
   times on the status page taken from the cache.

A notebook that fails is reported with its traceback, and the script exits with status 1 once
every notebook has run, so the build never starts on a broken notebook.

Usage: ``python _ext/execute.py --cache _build/.jupyter_cache [--fresh] [--workers 2] NB...``
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import time
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

ROOT = Path(__file__).resolve().parents[1]


def _config_timeout() -> int:
    """Seconds per cell, as ``_config.yml`` gives them to the build (``execute.timeout``)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return int(config.get("execute", {}).get("timeout", 30))


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, received {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, required=True, help="the build's jupyter-cache folder")
    parser.add_argument("--fresh", action="store_true", help="empty the cache first")
    parser.add_argument("--workers", type=_positive_int, default=2)
    args = parser.parse_args(argv)

    if args.fresh:
        shutil.rmtree(args.cache, ignore_errors=True)
    cache = get_cache(str(args.cache))
    timeout = _config_timeout()
    pending = []
    for path in args.notebooks:
        path = path.resolve()
        notebook = nbformat.read(path, as_version=4)
        try:
            cache.match_cache_notebook(notebook)
            continue  # its current code has a cached run
        except KeyError:
            pass
        record = cache.add_nb_to_project(str(path))
        pending.append((path.stat().st_size, ProcessData(record.pk, record.uri, cache, timeout, False)))
    if not pending:
        print(f"execute: every notebook has a cached run in {args.cache}", flush=True)
        return 0
    # The largest notebooks first, so that no long one starts last while the other worker idles.
    jobs = [data for _, data in sorted(pending, key=lambda item: -item[0])]
    workers = min(args.workers, len(jobs))
    print(f"execute: {len(jobs)} notebooks, {workers} at a time, into {args.cache}", flush=True)
    start = time.time()
    # "spawn": a fresh interpreter per worker, never a fork of this process's state.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = list(pool.imap_unordered(ExecutionWorkerLocalMProc(), jobs, chunksize=1))
    failed = sorted(uri for code, uri in results if code != 0)
    for uri in failed:
        record = cache.get_project_record(uri)
        name = Path(uri).relative_to(ROOT) if Path(uri).is_relative_to(ROOT) else uri
        print(f"\nexecute: {name} FAILED\n{record.traceback or '(no traceback recorded)'}",
              file=sys.stderr, flush=True)
    print(f"execute: {len(jobs) - len(failed)} of {len(jobs)} notebooks ran in {time.time() - start:.0f} s",
          flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
