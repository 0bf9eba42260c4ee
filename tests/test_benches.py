"""Every bench script runs in its quick mode and prints the figures it promises.

Benches run rarely and by hand, so one written against an API that has since changed rots
unseen (bench/phase_overhead.py did). Here each runs its real code path at tiny sizes
(`--quick`) in a fresh interpreter with one torch thread, as `make bench` runs it, against
this checkout's stilts. Its figures are parsed and checked against each other (a printed
ratio is the ratio of the printed figures), never against its targets: timings are ratios
the benches print, not something a test asserts.

Each quick run costs seconds to tens of seconds, mostly interpreters starting and importing
torch and transformers (a bench runs its variants in fresh processes), so the runs start
together, as many at a time as this process has cores to itself, and each test reads its own.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NUMBER = r"(\d+(?:\.\d+)?)"
BENCHES = (
    "adapters", "reuse", "planning", "gpu", "phase_overhead", "calibration", "mining",
    "cli_speed",
)  # fmt: skip
"""Every bench script, the longest quick run first, so that runs side by side end together."""


def run_bench(name: str) -> str:
    """What `python bench/<name>.py --quick` prints, checked to exit 0."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / f"{name}.py"), "--quick"],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def quick_runs(request: pytest.FixtureRequest) -> Iterator[Mapping[str, Future[str]]]:
    """The quick run of each bench this session tests (`test_<bench>`), started at once.

    As many run at a time as this process has cores to itself: all of them alone, one per
    core under `pytest -n` (the other workers use theirs), so no core is oversubscribed.
    """
    tested = {item.name for item in request.session.items if item.module is request.module}
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    pool = ThreadPoolExecutor(max(1, (os.cpu_count() or 1) // workers))
    try:
        yield {name: pool.submit(run_bench, name) for name in BENCHES if f"test_{name}" in tested}
    finally:
        pool.shutdown(cancel_futures=True)


def test_every_bench_is_run() -> None:
    assert sorted(path.stem for path in (REPO / "bench").glob("*.py")) == sorted(BENCHES)


def figures(pattern: str, out: str) -> list[tuple[str, ...]]:
    """What `pattern` captures in each line of `out` it matches whole (surrounding blanks
    aside), as printed."""
    matches = (re.fullmatch(pattern, line.strip()) for line in out.splitlines())
    return [match.groups() for match in matches if match]


def rounding(printed: str) -> float:
    """How far a printed figure may lie from the value it was rounded from."""
    return 0.5 * 10.0 ** -len(printed.partition(".")[2])


def assert_ratio(ratio: str, numerator: str, denominator: str) -> None:
    """A printed ratio is that of the printed figures, to the rounding of all three."""
    n, d = float(numerator), float(denominator)
    low = max(n - rounding(numerator), 0.0) / (d + rounding(denominator))
    below = d - rounding(denominator)
    high = (n + rounding(numerator)) / below if below > 0 else math.inf
    slack = rounding(ratio)
    assert low - slack <= float(ratio) <= high + slack, (ratio, numerator, denominator)


def test_adapters(quick_runs: Mapping[str, Future[str]]) -> None:
    out = quick_runs["adapters"].result()
    rows = figures(rf"(full|lora|ia3)\s+([\d,]+)\s+{NUMBER}%\s+.*", out)
    assert [name for name, _, _ in rows] == ["full", "lora", "ia3"], out
    trainable = {name: count.replace(",", "") for name, count, _ in rows}
    assert rows[0][2] == "100.00"
    for name in ("lora", "ia3"):
        assert 0 < int(trainable[name]) < int(trainable["full"])
        pattern = rf"{name}\s+trainable {NUMBER}, peak RSS {NUMBER}, training MiB {NUMBER}"
        ((ratio, _, _),) = figures(pattern, out)
        assert_ratio(ratio, trainable[name], trainable["full"])


def test_reuse(quick_runs: Mapping[str, Future[str]]) -> None:
    out = quick_runs["reuse"].result()
    recipes = figures(r"(recipes/\S+\.yaml)", out)
    assert recipes == [("recipes/smoke/mnli-xnli.yaml",), ("recipes/smoke/grid.yaml",)], out
    firsts = figures(rf"first run\s+[\d., ]+ s \(median {NUMBER}\)", out)
    seconds = figures(rf"second run\s+[\d., ]+ s \(median {NUMBER}\)", out)
    pattern = rf"ratio second / first: {NUMBER} \(target <= 0\.2\); the second trained nothing"
    ratios = figures(pattern, out)
    assert len(firsts) == len(seconds) == len(ratios) == 2, out
    for (first,), (second,), (ratio,) in zip(firsts, seconds, ratios, strict=True):
        assert_ratio(ratio, second, first)


def test_planning(quick_runs: Mapping[str, Future[str]]) -> None:
    out = quick_runs["planning"].result()
    lines = figures(
        rf"(\S+): (\d+) chains planned in {NUMBER} s \(goal ≤ 0\.5 s: (?:ok|over the goal)\); "
        rf"rescanning discovery {NUMBER} s, ratio {NUMBER}",
        out,
    )
    recipes = [recipe for recipe, *_ in lines]
    assert recipes == ["recipes/study/grid.yaml", "recipes/questions/similarity.yaml"], out
    for _, chains, cached, rescanning, ratio in lines:
        assert int(chains) > 0
        assert_ratio(ratio, cached, rescanning)


def test_phase_overhead(quick_runs: Mapping[str, Future[str]]) -> None:
    out = quick_runs["phase_overhead"].result()
    for kind in ("wall", "CPU"):
        pattern = rf"{kind}\s+stilts\s+{NUMBER} s\s+hand-written\s+{NUMBER} s\s+ratio {NUMBER}"
        ((stilts, by_hand, ratio),) = figures(pattern + r" \(target ≤ 1\.03\)", out)
        assert_ratio(ratio, stilts, by_hand)
    pattern = rf"outside the training loop: stilts {NUMBER} s, hand-written {NUMBER} s"
    assert len(figures(pattern, out)) == 1, out


def test_gpu(quick_runs: Mapping[str, Future[str]]) -> None:
    out = quick_runs["gpu"].result()  # the tiny shape: on the CPU, or on a GPU if there is one
    pattern = r"device\s+(.+?); precision (?:fp32|tf32|bf16|fp16); attention stilts \S+, .*"
    ((device,),) = figures(pattern, out)
    seconds = {}
    for kind in ("loop", "wall"):
        pattern = (
            rf"{kind}\s+stilts {NUMBER} s\s+hand-written {NUMBER} s\s+"
            rf"ratio hand / stilts {NUMBER} \(goal ≥ 1\.0\)"
        )
        ((stilts, by_hand, ratio),) = figures(pattern, out)
        assert_ratio(ratio, by_hand, stilts)
        seconds[kind] = (stilts, by_hand)
    pattern = rf"tokens/s\s+stilts {NUMBER}\s+hand-written {NUMBER}\s+\((\d+) real tokens .*\)"
    ((stilts, by_hand, tokens),) = figures(pattern, out)
    assert_ratio(stilts, tokens, seconds["loop"][0])
    assert_ratio(by_hand, tokens, seconds["loop"][1])
    mfu = r"MFU\s+(n/a on CPU|n/a: .*|unknown: .*|stilts \S+ % .*) \(model TFLOP/s stilts \S+.*\)"
    ((share,),) = figures(mfu, out)
    memory = r"peak memory\s+(n/a on CPU|stilts \S+ GiB\s+hand-written \S+ GiB)"
    ((peak,),) = figures(memory, out)
    if device == "cpu (no GPU)":
        assert (share, peak) == ("n/a on CPU", "n/a on CPU"), out
    pattern = rf"eval unsorted {NUMBER} rows/s\s+padding cost {NUMBER}\s+\(batch \d+, file order\)"
    ((unsorted, unsorted_padding),) = figures(pattern, out)
    pattern = (
        rf"eval sorted\s+{NUMBER} rows/s\s+padding cost {NUMBER} \(goal ≤ 1\.10\)\s+"
        rf"speed-up {NUMBER}; labels agree on {NUMBER} % of rows"
    )
    ((by_length, sorted_padding, speedup, agree),) = figures(pattern, out)
    assert 1.0 <= float(sorted_padding) <= float(unsorted_padding), out
    assert_ratio(speedup, by_length, unsorted)
    assert float(agree) > 90, out  # rows put back in order (a mix-up agrees on a third)


def test_mining(quick_runs: Mapping[str, Future[str]]) -> None:
    out = quick_runs["mining"].result()
    assert figures(r"subset check: .*: identical \(\d+ pairs\)", out), out
    runs = figures(rf"\d+\s+(.+?)\s+{NUMBER}\s+{NUMBER}", out)
    names = ["two plain kNN searches", "ratio_margin_candidates"]
    assert [name for name, _, _ in runs] == [*names, *reversed(names)], out  # ABBA
    pattern = rf"median seconds: baseline {NUMBER}, ratio_margin_candidates {NUMBER}"
    ((baseline, ours),) = figures(pattern, out)
    pattern = rf"time ratio \(ratio_margin_candidates / baseline\): {NUMBER} \(target ≤ 1\.3\)"
    ((ratio,),) = figures(pattern, out)
    assert_ratio(ratio, ours, baseline)
    pattern = (
        rf"peak memory above the loaded inputs, MiB \((?:VmHWM|ru_maxrss)\): "
        rf"baseline {NUMBER}, ratio_margin_candidates {NUMBER}, ratio {NUMBER}"
    )
    ((baseline, ours, ratio),) = figures(pattern, out)
    assert_ratio(ratio, ours, baseline)
    pattern = r"accepted pairs (\d+); planted pairs recovered (\d+)/(\d+); .* total \d+ s"
    ((accepted, found, planted),) = figures(pattern, out)
    assert int(accepted) > 0 and 0 < int(found) <= int(planted)


def test_cli_speed(quick_runs: Mapping[str, Future[str]]) -> None:
    out = quick_runs["cli_speed"].result()
    lines = figures(rf"(.+?)\s+{NUMBER} s\s+×\s*{NUMBER} of baseline", out)
    names = [name for name, _, _ in lines]
    assert names == ["python -c pass (baseline)", "stilts --help", "stilts tasks"], out
    baseline = lines[0][1]
    for _, seconds, times in lines:
        assert_ratio(times, seconds, baseline)


def test_calibration(quick_runs: Mapping[str, Future[str]]) -> None:
    out = quick_runs["calibration"].result()
    rate = r"(\d+)/(\d+) = (\d+\.\d) %(?: \((\d+) n/c\))?"
    rows = figures(rf"(\w+)\s+{rate}\s+{rate}\s+\S.*", out)
    names = ["resource", "families", "syntax", "similarity", "size"]
    assert [row[0] for row in rows] == names, out
    ((stores, _),) = figures(r"(\d+) null and (\d+) planted grids per analysis .*", out)
    for _, *both in rows:
        for hits, claims, percent, missing in (both[:4], both[4:]):
            assert 0 <= int(hits) <= int(claims), out
            made = int(claims) + int(missing or 0)
            assert made > 0 and made % int(stores) == 0, out  # each grid makes its claims
            assert abs(float(percent) - 100 * int(hits) / int(claims)) <= 0.05 + 1e-9, out
    assert len(figures(r"(\w+): (\d+) s", out)) == len(names), out
