"""Wall time and peak memory of BUCC mining versus two plain exact kNN searches.

Data: ``--n`` random unit source vectors of ``--dim`` dimensions (default 768, mBERT's width);
targets are noisy copies (cosine ≈ 0.8) of a random half of the sources plus random unit
vectors, shuffled. The baseline, written here, is what any BUCC evaluation must at least do:
two exact kNN searches (x→y and y→x, k=4) by chunked torch matmul + topk.
``ratio_margin_candidates`` does those searches plus canonical rescoring, margins and the
greedy union (its torch engine gets both directions from one pass over x·yᵀ).

Each timed run is a fresh subprocess that loads the data, then measures wall time and peak
resident memory above what it held after loading (VmHWM after resetting it through
/proc/self/clear_refs; ru_maxrss, an upper bound, where that is not possible). Variants run
in ABBA order so drifting machine load hits both alike; medians are compared. Before timing,
the mined pairs of a chunked run on a subset are checked against a one-block run.

    python bench/mining.py [--quick] [--n 40000] [--dim 768] [--chunk 1024] [--rounds 1]

The default (n = 40,000, dim 768) takes about two minutes on 2 cores; time grows as n².
`--quick` (the tests) mines n = 2,000 vectors of 64 dimensions in blocks of 256 rows, which
measures mostly process start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

K = 4
TARGET_RATIO = 1.3
QUICK = {"n": 2000, "dim": 64, "chunk": 256, "subset": 500}
"""`--quick`'s defaults (explicit options still win)."""


def make_data(n: int, dim: int, seed: int, out: Path) -> None:
    """x, y and the planted pairs, written as .npy; generated in row blocks to stay small."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, dim), dtype=np.float32)
    y = np.empty((n, dim), dtype=np.float32)
    block = 4096
    for start in range(0, n, block):
        part = rng.standard_normal((min(block, n - start), dim), dtype=np.float32)
        x[start : start + len(part)] = part / np.linalg.norm(part, axis=1, keepdims=True)
    planted = rng.permutation(n)[: n // 2]  # sources that get a translation
    noise = 0.75 / np.sqrt(dim)  # ‖noise‖² ≈ 0.56 → cosine ≈ 0.8
    rows = np.concatenate([planted, np.full(n - len(planted), -1)])
    order = rng.permutation(n)  # target position p holds rows[order[p]]
    for start in range(0, n, block):
        src = rows[order[start : start + block]]
        part = rng.standard_normal((len(src), dim), dtype=np.float32)
        copy = src >= 0
        part[copy] = x[src[copy]] + noise * part[copy]
        y[start : start + len(src)] = part / np.linalg.norm(part, axis=1, keepdims=True)
    target_of = np.full(n, -1, dtype=np.int64)
    positions = np.flatnonzero(rows[order] >= 0)
    target_of[rows[order][positions]] = positions
    np.save(out / "x.npy", x)
    np.save(out / "y.npy", y)
    np.save(out / "target_of.npy", target_of)


# ---------------------------------------------------------------------------------------------
# child process: one timed run


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def plain_knn(queries: np.ndarray, keys: np.ndarray, k: int, chunk: int):
    """The baseline: chunked exact inner-product kNN, matmul + topk, nothing else."""
    import torch

    q, kt = torch.from_numpy(queries), torch.from_numpy(keys).T
    sims = torch.empty((len(queries), k))
    idx = torch.empty((len(queries), k), dtype=torch.int64)
    for start in range(0, len(queries), chunk):
        v, i = (q[start : start + chunk] @ kt).topk(k, dim=1)
        sims[start : start + chunk], idx[start : start + chunk] = v, i
    return sims.numpy(), idx.numpy()


def child(variant: str, data: Path, chunk: int) -> None:
    import torch

    from stilts.runtime.mining import ratio_margin_candidates

    x, y = np.load(data / "x.npy"), np.load(data / "y.npy")
    target_of = np.load(data / "target_of.npy")
    held = _status_mib("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset VmHWM to the current RSS
        peak_source = "VmHWM"
    except OSError:
        peak_source = "ru_maxrss"
    extra = {}
    start = time.perf_counter()
    if variant == "baseline":
        plain_knn(x, y, K, chunk)
        plain_knn(y, x, K, chunk)
    else:
        cands = ratio_margin_candidates(x, y, K, chunk_size=chunk)
        planted = np.flatnonzero(target_of >= 0)
        mined = dict(zip(cands.src.tolist(), cands.tgt.tolist(), strict=True))
        extra = {
            "accepted": len(cands),
            "planted_found": sum(mined.get(int(s)) == int(target_of[s]) for s in planted),
            "planted": len(planted),
        }
    seconds = time.perf_counter() - start
    if peak_source == "VmHWM":
        peak = _status_mib("VmHWM")
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "variant": variant,
        "seconds": seconds,
        "peak_mib": (peak or 0.0) - (held or 0.0),
        "peak_source": peak_source,
        "threads": torch.get_num_threads(),
        **extra,
    }
    print(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# parent


def subset_check(data: Path, n_sub: int, chunk: int) -> str:
    from stilts.runtime.mining import ratio_margin_candidates

    x, y = np.load(data / "x.npy")[:n_sub], np.load(data / "y.npy")[:n_sub]
    used = min(chunk, len(x) // 3 + 1)  # several blocks, the last one partial
    one_block = ratio_margin_candidates(x, y, K, chunk_size=len(x))
    chunked = ratio_margin_candidates(x, y, K, chunk_size=used)
    same = all(
        np.array_equal(getattr(one_block, f), getattr(chunked, f)) for f in ("src", "tgt", "score")
    )
    verdict = "identical" if same else "DIFFERENT"
    return (
        f"subset check: n={len(x)}, chunk_size={used} vs one block of {len(x)}: "
        f"{verdict} ({len(one_block)} pairs)"
    )


def run_child(variant: str, data: Path, chunk: int) -> dict:
    command = [sys.executable, __file__, "--child", variant, "--data", str(data)]
    done = subprocess.run(
        [*command, "--chunk", str(chunk)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"{variant} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=40_000, help="sentences per side")
    parser.add_argument("--dim", type=int, default=768, help="embedding width")
    parser.add_argument("--chunk", type=int, default=1024, help="query rows per block (both)")
    parser.add_argument("--rounds", type=int, default=1, help="ABBA rounds")
    parser.add_argument("--subset", type=int, default=4000, help="rows for the subset check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the tests)")
    parser.add_argument("--child", choices=["baseline", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        parser.set_defaults(**QUICK)
        args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.chunk)
        return

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stilts-mining-bench-") as tmp:
        data = Path(tmp)
        make_data(args.n, args.dim, args.seed, data)
        block_mib = args.chunk * args.n * 4 / 2**20
        print(
            f"n={args.n} dim={args.dim} k={K} chunk={args.chunk} "
            f"(one similarity block = {block_mib:.0f} MiB) cpus={os.cpu_count()}"
        )
        print(subset_check(data, min(args.subset, args.n), args.chunk))
        results: dict[str, list[dict]] = {"baseline": [], "ours": []}
        print(f"{'run':>3}  {'variant':<24} {'seconds':>8} {'peak MiB':>9}")
        order = ["baseline", "ours", "ours", "baseline"] * args.rounds
        for number, variant in enumerate(order, start=1):
            result = run_child(variant, data, args.chunk)
            results[variant].append(result)
            name = "two plain kNN searches" if variant == "baseline" else "ratio_margin_candidates"
            print(f"{number:>3}  {name:<24} {result['seconds']:8.2f} {result['peak_mib']:9.0f}")
    base = statistics.median(r["seconds"] for r in results["baseline"])
    ours = statistics.median(r["seconds"] for r in results["ours"])
    base_peak = max(r["peak_mib"] for r in results["baseline"])
    ours_peak = max(r["peak_mib"] for r in results["ours"])
    last = results["ours"][-1]
    print(f"median seconds: baseline {base:.2f}, ratio_margin_candidates {ours:.2f}")
    print(
        f"time ratio (ratio_margin_candidates / baseline): {ours / base:.3f} "
        f"(target ≤ {TARGET_RATIO})"
    )
    print(
        f"peak memory above the loaded inputs, MiB ({last['peak_source']}): "
        f"baseline {base_peak:.0f}, ratio_margin_candidates {ours_peak:.0f}, "
        f"ratio {ours_peak / max(base_peak, 1e-9):.2f}"
    )
    print(
        f"accepted pairs {last['accepted']}; planted pairs recovered "
        f"{last['planted_found']}/{last['planted']}; torch threads {last['threads']}; "
        f"total {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
