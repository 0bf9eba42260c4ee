"""A finished recipe run again: how long the second run takes against the first.

Runs each smoke recipe (`recipes/smoke/mnli-xnli.yaml`, the README's demo as a recipe, and
`recipes/smoke/grid.yaml`, the same with the xnli baseline: a grid; both on the bundled tiny
model and sample data) into a fresh store, then again into the same store, as a user would, in
subprocesses; the second run must train and score nothing (it reads the finished runs' results
back). Each pair is timed in the same run of this script, `--pairs` times; the ratio of the
medians is printed. Target: a small fraction (≤ 0.2; process start-up remains).

    python bench/reuse.py [--quick] [--pairs 3]

`--quick` (the tests) runs one pair of each recipe on 64 training rows for one epoch and 16
rows of each evaluation set.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMOKE = Path(__file__).resolve().parents[1] / "recipes" / "smoke"
RECIPES = {SMOKE / "mnli-xnli.yaml": "reusing its results", SMOKE / "grid.yaml": "0 run now"}
"""Each recipe, and what its second run must say: that it read every result back."""
QUICK = (
    "hyperparameters.max_train_examples=64",
    "hyperparameters.epochs=1",
    "hyperparameters.max_eval_examples=16",
)
"""`--quick`'s changes to each recipe (`stilts run --set`)."""


def timed_run(recipe: Path, store: Path, settings: tuple[str, ...]) -> tuple[float, str]:
    sets = [part for setting in settings for part in ("--set", setting)]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "stilts", "run", str(recipe), *sets, "--store", str(store)],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one tiny pair each (the tests)")
    args = parser.parse_args()
    if args.quick:
        parser.set_defaults(pairs=1)  # explicit options still win
        args = parser.parse_args()
    pairs, settings = args.pairs, QUICK if args.quick else ()
    for recipe, reused in RECIPES.items():
        first, second = [], []
        for _ in range(pairs):
            with tempfile.TemporaryDirectory(prefix="stilts-reuse-") as scratch:
                seconds, _ = timed_run(recipe, Path(scratch), settings)
                first.append(seconds)
                seconds, output = timed_run(recipe, Path(scratch), settings)
                second.append(seconds)
                if reused not in output or "training from" in output:
                    raise SystemExit(f"the second run trained something:\n{output}")
        ratio = statistics.median(second) / statistics.median(first)
        print(recipe.relative_to(SMOKE.parents[1]))
        for name, times in (("first run", first), ("second run", second)):
            listed = ", ".join(f"{s:.1f}" for s in times)
            print(f"  {name:<10} {listed} s (median {statistics.median(times):.1f})")
        print(f"  ratio second / first: {ratio:.3f} (target <= 0.2); the second trained nothing")


if __name__ == "__main__":
    main()
