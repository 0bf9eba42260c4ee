"""Wall time of `stilts --help` and `stilts tasks`, beside a bare `python -c pass` baseline.

Targets: --help ≤ 0.5 s and tasks ≤ 1 s. Each command runs in a fresh interpreter, as a user
types it; the median of several runs is printed with its ratio to the interpreter start-up
measured in the same run (these machines are noisy, so ratios travel better than seconds).

    python bench/cli_speed.py [--quick]

`--quick` (the tests) runs each command once.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

RUNS = 7
QUICK_RUNS = 1
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "stilts --help": [sys.executable, "-m", "stilts", "--help"],
    "stilts tasks": [sys.executable, "-m", "stilts", "tasks"],
}


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each command once (the tests)")
    runs = QUICK_RUNS if parser.parse_args().quick else RUNS
    timings = {name: median_seconds(command, runs) for name, command in COMMANDS.items()}
    baseline = timings["python -c pass (baseline)"]
    for name, seconds in timings.items():
        print(f"{name:28s} {seconds:6.3f} s   ×{seconds / baseline:5.1f} of baseline")


if __name__ == "__main__":
    main()
