"""False positives and interval coverage of the five analyses, measured on simulated grids.

A finding that an analysis prints at the 5 % level should appear in 5 % of grids where nothing
was planted, and a 95 % interval should hold the value it estimates in 95 % of grids where
something was: the analyses' readers take both on trust, and neither can be read off a real
grid. For each question this draws `--stores` grids with nothing planted, each from a design
of its own (`stilts.reports.analysis.simulate`: the question recipe's grid, with run-level
noise shared by a run's languages, targets on different scales, uneven coverage, three
seeds), and as many with an effect planted, spread over `--designs` designs whose true value
is the analysis's own statistic on `--truth-seeds` seeds; it writes each grid as a grid is
written, runs the analysis on it and counts (`stilts.reports.analysis.calibration`).

    python bench/calibration.py [--quick] [--stores 200] [--designs 5] [--truth-seeds 200]
                                [--bootstrap N] [--jobs 1] [--only resource,size]

The full run uses the analyses' own bootstrap size and took 610 s wall with `--jobs 2` on
2 cores (818 s CPU; the analyses' bootstraps are nearly all of it, families' 397 s).
`--quick` (the tests) runs 8 grids of each kind on cut-down designs with 100 resamples,
truths from 20 seeds, in about 10 s: the same code paths, rates too rough to read.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from stilts.reports.analysis import calibration, stats

T = TypeVar("T")
QUICK = {"stores": 8, "designs": 1, "truth_seeds": 20, "bootstrap": 100}


@contextmanager
def mapper(jobs: int) -> Iterator[Callable[[Callable[[int], T], Iterable[int]], Iterable[T]]]:
    """`map`, or a pool's map over `jobs` processes (each replicate is independent)."""
    if jobs <= 1:
        yield map
        return
    with ProcessPoolExecutor(jobs) as pool:
        yield lambda work, items: list(pool.map(work, items, chunksize=4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=200, help="grids per rate and analysis")
    parser.add_argument("--designs", type=int, default=5, help="planted designs")
    parser.add_argument("--truth-seeds", type=int, default=200)
    parser.add_argument("--bootstrap", type=int, default=None,
                        help=f"resamples per interval (default: the analyses' own, "
                             f"{stats.BOOTSTRAP_SAMPLES})")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1, help="processes")
    parser.add_argument("--only", default=",".join(calibration.QUESTIONS))
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the tests)")
    args = parser.parse_args()
    if args.quick:
        parser.set_defaults(**QUICK)  # explicit options still win
        args = parser.parse_args()
    questions = [calibration.QUESTIONS[name] for name in args.only.split(",")]
    if args.quick:
        questions = [question.smaller() for question in questions]
    print(
        f"{args.stores} null and {args.stores} planted grids per analysis ({args.designs} "
        f"planted designs, truths from {args.truth_seeds} seeds), bootstrap "
        f"{args.bootstrap or stats.BOOTSTRAP_SAMPLES} resamples, {args.jobs} process(es)"
    )
    started, found = time.perf_counter(), []
    with mapper(args.jobs) as run:
        for question in questions:
            began = time.perf_counter()
            found.append(calibration.calibrate(
                question, stores=args.stores, designs=args.designs,
                truth_seeds=args.truth_seeds, bootstrap=args.bootstrap, mapper=run,
            ))  # fmt: skip
            print(f"  {question.name}: {time.perf_counter() - began:.0f} s")
    print(calibration.rates(found))
    total = time.perf_counter() - started
    print(f"target: false positives <= 7 %, coverage >= 90 %; total {total:.0f} s")


if __name__ == "__main__":
    main()
