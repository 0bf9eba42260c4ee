"""Planning the study's experiments: every chain of a recipe resolved and fingerprinted.

Planning happens before any training (every input error surfaces there) and again on every
rerun of a finished grid, so it must stay cheap: the study's grid (`recipes/study/grid.yaml`,
90 chains) and the similarity question (`recipes/questions/similarity.yaml`, 270 chains) each
plan in ≤ 0.5 s. Planning asks the task registry for tasks hundreds of times; the baseline,
measured in the same run, is the same planning with discovery rescanning installed package
metadata on every request (what stilts did before discovery was cached), so the ratio shows
what the cache saves.

    python bench/planning.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from stilts.experiment.plan import plan_all
from stilts.experiment.recipe import load_recipe
from stilts.tasks import registry

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
MEASURED = (RECIPES / "study" / "grid.yaml", RECIPES / "questions" / "similarity.yaml")
GOAL_SECONDS = 0.5


def plan_recipe(path: Path) -> int:
    """Read, check and plan every chain of the recipe at `path`; the number of chains."""
    return len(plan_all(cell.config for cell in load_recipe(path).chains()))


def seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def uncached(path: Path) -> int:
    """`plan_recipe` with every discovery call scanning package metadata anew."""
    scan = registry.entries

    def rescanning() -> object:
        scan.cache_clear()
        return scan()

    registry.entries = rescanning  # type: ignore[assignment]
    try:
        return plan_recipe(path)
    finally:
        registry.entries = scan  # type: ignore[assignment]
        registry.refresh()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition each (the tests)")
    repeats = 1 if parser.parse_args().quick else 5
    for path in MEASURED:
        chains = plan_recipe(path)  # warm: imports and the discovery cache
        cached = seconds(lambda path=path: plan_recipe(path), repeats)
        baseline = seconds(lambda path=path: uncached(path), 1 if repeats == 1 else 3)
        verdict = "ok" if cached <= GOAL_SECONDS else "over the goal"
        print(
            f"{path.relative_to(RECIPES.parent)}: {chains} chains planned in {cached:.3f} s "
            f"(goal ≤ {GOAL_SECONDS} s: {verdict}); rescanning discovery {baseline:.3f} s, "
            f"ratio {cached / baseline:.3f}"
        )


if __name__ == "__main__":
    main()
