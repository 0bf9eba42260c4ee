"""A finished recipe run again: how long the second run takes against the first.

Runs `stilts run recipes/smoke/mnli-xnli.yaml` (the README's demo as a recipe, on the bundled
tiny model and sample data) into a fresh store, then again into the same store, as a user
would, in subprocesses; the second run must train and score nothing (it reads the finished
run's results back). Each pair is timed in the same run of this script, `--pairs` times; the ratio
of the medians is printed. Target: a small fraction (≤ 0.2; process start-up remains).

    python bench/reuse.py [--pairs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "smoke" / "mnli-xnli.yaml"


def timed_run(store: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "stilts", "run", str(RECIPE), "--store", str(store)],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    pairs = parser.parse_args().pairs
    first, second = [], []
    for _ in range(pairs):
        with tempfile.TemporaryDirectory(prefix="stilts-reuse-") as scratch:
            seconds, _ = timed_run(Path(scratch))
            first.append(seconds)
            seconds, output = timed_run(Path(scratch))
            second.append(seconds)
            if "reusing its results" not in output or "training from" in output:
                raise SystemExit(f"the second run trained something:\n{output}")
    ratio = statistics.median(second) / statistics.median(first)
    for name, times in (("first run", first), ("second run", second)):
        listed = ", ".join(f"{s:.1f}" for s in times)
        print(f"{name:<10} {listed} s (median {statistics.median(times):.1f})")
    print(f"ratio second / first: {ratio:.3f} (target <= 0.2); the second run trained nothing")


if __name__ == "__main__":
    main()
