"""Retrieval evaluation with XTREME's official semantics: BUCC mining, Tatoeba, mAP@k.

Pure compute: inputs are sentence-embedding matrices (float32 numpy arrays or torch tensors,
one row per sentence), outputs are numpy arrays, sets and ×100 metrics. No model code.
The metrics on mined pairs and rankings (``set_f1``, ``map_at_k``) are in
``stilts.eval.retrieval``, which needs no torch, and are re-exported here.

Reference code, followed line by line where it defines a result:

* google-research/xtreme ``third_party/utils_retrieve.py`` (commit 4940374, adapted from
  LASER): ``knn``, ``score_candidates``, ``mine_bitext``, ``text_load_unify``,
  ``unique_embeddings``, ``read_sent2id``, ``read_candidate2score``, ``bucc_optimize``,
  ``bucc_extract``, ``bucc_eval``, ``similarity_search``.
* google-research/xtreme ``third_party/evaluate_retrieval.py`` (BUCC, Tatoeba and LAReQA
  drivers) and ``evaluate.py`` (``bucc_f1``, ``accuracy``).
* google-research/xtreme ``third_party/utils_lareqa.py`` (commit e23cf42:
  ``average_precision_at_k``, ``mean_avg_prec_at_k``) and ``third_party/utils_mewslix.py``
  (``mean_reciprocal_rank``, ``evaluate`` with ``TOP_K = 20``).
* nyu-mll/jiant ``jiant/proj/main/components/evaluate.py`` (``Bucc2018EvaluationScheme``) and
  ``jiant/scripts/benchmarks/xtreme/xtreme_submission.py`` for the two places where jiant
  departs from XTREME (duplicate sentences, dev threshold applied to test).

Exactness. A float32 GEMM does not give bit-identical results for different block shapes (MKL
takes other kernels for other row counts and thread splits), so "chunked equals unchunked"
cannot rest on the matmul. Here the matmul only *proposes* candidates: every reported similarity
is recomputed canonically (float64 products of the float32 inputs, summed by a fixed pairwise
tree, rounded once to float32), neighbours are ordered by (similarity descending, key index
ascending), and a rigorous rounding-error bound certifies that no key outside the proposed set
can belong to the top k; rows that cannot be certified (near-ties) are re-searched exactly. The
results are therefore a pure function of the inputs: identical for every ``chunk_size``, thread
count and engine (torch or faiss).
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from types import ModuleType
from typing import Literal, TypeVar

import numpy as np
import torch

from stilts.eval.retrieval import map_at_k, set_f1

Engine = Literal["torch", "faiss"]
DuplicatePolicy = Literal["xtreme", "all"]
ScoredPairs = Mapping[tuple[Hashable, Hashable], float]
Id = TypeVar("Id", bound=Hashable)

DEFAULT_CHUNK_SIZE = 1024
"""Query rows whose full similarity row is held at once (rows × keys float32)."""

_EXTRA = 4
"""Candidates proposed beyond k, so near-ties at the k-th place rarely need a re-search."""

_U32 = 2.0**-24  # unit roundoff of float32
_PAIR_BLOCK = 256


# --------------------------------------------------------------------------------------------
# Input handling


def _as_matrix(a: np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    """2-D, C-contiguous, finite float32 numpy array (no copy when it already is one)."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    a = np.ascontiguousarray(a, dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix (rows = sentences), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _row_norms(a: np.ndarray) -> np.ndarray:
    """Euclidean row norms without a temporary the size of ``a`` (unlike np.linalg.norm)."""
    return np.sqrt(np.einsum("ij,ij->i", a, a))


def _check_normalised(a: np.ndarray, name: str) -> None:
    # mine_bitext calls faiss.normalize_L2 on both sides; we require it of the caller instead of
    # silently copying, so that the scores the caller sees are cosines of its own vectors.
    norms = _row_norms(a)
    if a.shape[0] and not np.allclose(norms, 1.0, atol=1e-4):
        worst = float(norms[np.argmax(np.abs(norms - 1.0))])
        raise ValueError(f"{name} rows must be L2-normalised (found a row of norm {worst:.6f})")


def _tensor(a: np.ndarray) -> torch.Tensor:
    with warnings.catch_warnings():  # read-only arrays are fine: nothing here writes to them
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(a)


@contextlib.contextmanager
def _ieee_matmul() -> Iterator[None]:
    """Run CPU float32 matmuls in IEEE float32 even if the caller allowed bf16/TF32.

    The certification bound below assumes float32 GEMM rounding; ``set_float32_matmul_precision
    ("medium")`` makes oneDNN use bf16 on CPU, whose error is ~65,000 times larger.
    """
    matmul = getattr(getattr(torch.backends, "mkldnn", None), "matmul", None)
    if matmul is None or not hasattr(matmul, "fp32_precision"):
        yield
        return
    saved = matmul.fp32_precision
    matmul.fp32_precision = "ieee"
    try:
        yield
    finally:
        matmul.fp32_precision = saved


def _faiss() -> ModuleType:
    try:
        import faiss
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "engine='faiss' needs the faiss-cpu package: pip install 'stilts[faiss]'"
        ) from error
    return faiss


# --------------------------------------------------------------------------------------------
# Canonical similarities and certified top-k


def _exact_pair_dots(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise dot products of two [P, d] float32 tensors, independent of P and of threads.

    Products of two float32 numbers are exact in float64; they are summed by a fixed tree of
    element-wise additions (column t + column t + h, halving the width each step; no reduction
    kernel whose order could depend on shape or thread count) and rounded once to float32.
    The error is ≤ ~2^-24·|a|·|b|, so the value is (nearly) correctly rounded: a better value
    than the GEMM's, and the same whichever block the pair was computed in.
    """
    p = a.double().mul_(b)
    width = p.shape[1]
    while width > 1:
        half = width // 2
        p[:, :half].add_(p[:, half : 2 * half])
        if width % 2:
            p[:, half : half + 1].copy_(p[:, 2 * half : 2 * half + 1])
        width = half + width % 2
    return p[:, 0].float()


def _rescore(
    queries: torch.Tensor, keys: torch.Tensor, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Canonical similarities of the (query row, key row) pairs, in the given order.

    Small fixed blocks keep the float64 temporaries in cache; large fresh allocations would
    cost more in page faults than the arithmetic. Memory: ~24·_PAIR_BLOCK·d bytes.
    """
    out = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), _PAIR_BLOCK):
        r = torch.from_numpy(rows[start : start + _PAIR_BLOCK])
        c = torch.from_numpy(cols[start : start + _PAIR_BLOCK])
        out[start : start + _PAIR_BLOCK] = _exact_pair_dots(queries[r], keys[c]).numpy()
    return out


def _error_bound(queries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Per query, an upper bound on |GEMM similarity − canonical similarity| for any key.

    A float32 dot product of length d summed in any order (blocked, pairwise, FMA) is within
    γ_d·Σ|q_i·k_i| ≤ γ_d·‖q‖·‖k‖ of the exact value, γ_d = d·u / (1 − d·u) (Higham, Accuracy
    and Stability of Numerical Algorithms, §3.1); the canonical value is within u·‖q‖·‖k‖ of
    it plus a float64 term far below that. Doubled for safety.
    """
    d = queries.shape[1]
    gamma = d * _U32 / (1.0 - d * _U32)
    key_max = float(_row_norms(keys).max()) if keys.shape[0] else 0.0
    q_norms = _row_norms(queries).astype(np.float64)  # float32 rounding ≪ the 2× margin
    return 2.0 * (gamma + _U32 + 1e-12) * q_norms * key_max + 1e-30


def _order_rows(n: int, width: int, idx: np.ndarray, sims: np.ndarray) -> np.ndarray:
    """Flat positions that order each row by (similarity descending, index ascending)."""
    rows = np.repeat(np.arange(n), width)
    return np.lexsort((idx.ravel(), -sims.ravel(), rows)).reshape(n, width)


def _certified_topk(
    queries_np: np.ndarray,
    keys_np: np.ndarray,
    cand: np.ndarray,
    floor: np.ndarray,
    k: int,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k (canonical similarity desc, index asc) from GEMM-proposed candidates.

    ``cand`` [n, kk] holds, per query, the kk keys with the largest GEMM similarities and
    ``floor`` [n] the smallest of those kk GEMM values (−inf when kk covers every key). Every key
    outside the candidates has GEMM value ≤ floor, hence canonical value ≤ floor + δ. If the
    canonical k-th best candidate is strictly above floor + δ, the candidates contain the exact
    top-k; otherwise the row is re-searched (:func:`_research`).
    """
    n, width = cand.shape
    queries, keys = _tensor(queries_np), _tensor(keys_np)
    canon = _rescore(
        queries, keys, np.repeat(np.arange(n, dtype=np.int64), width), cand.ravel()
    ).reshape(n, width)
    order = _order_rows(n, width, cand, canon)
    sims = canon.ravel()[order][:, :k].copy()
    idx = cand.ravel()[order][:, :k].copy()
    delta = _error_bound(queries_np, keys_np)
    kth = sims[:, k - 1].astype(np.float64)
    uncertain = np.flatnonzero(~(kth > floor.astype(np.float64) + delta))
    if uncertain.size:
        sims[uncertain], idx[uncertain] = _research(
            queries_np, keys_np, uncertain, kth[uncertain] - delta[uncertain], k, chunk_size
        )
    return sims, idx


def _research(
    queries_np: np.ndarray,
    keys_np: np.ndarray,
    rows: np.ndarray,
    threshold: np.ndarray,
    k: int,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k for queries whose proposed candidates could not be certified.

    With v = canonical k-th best among the candidates, every key of the true top-k has canonical
    value ≥ v, hence GEMM value ≥ v − δ = ``threshold``: rescoring all keys at or above it finds
    the exact answer. Such sets are small unless many keys are within δ of each other.
    """
    queries, keys = _tensor(queries_np), _tensor(keys_np)
    sims = np.empty((len(rows), k), dtype=np.float32)
    idx = np.empty((len(rows), k), dtype=np.int64)
    for start in range(0, len(rows), chunk_size):
        part = rows[start : start + chunk_size]
        with _ieee_matmul():
            approx = queries[torch.from_numpy(part)] @ keys.T
        # Compare in float32 against the threshold rounded down, never up, so that no key whose
        # GEMM value reaches the float64 threshold is lost (and no float64 copy of the block).
        thr64 = threshold[start : start + chunk_size]
        thr32 = thr64.astype(np.float32)
        thr32 = np.where(thr32 > thr64, np.nextafter(thr32, np.float32(-np.inf)), thr32)
        local, col = (approx >= torch.from_numpy(thr32)[:, None]).nonzero(as_tuple=True)
        local_np, col_np = local.numpy(), col.numpy()
        vals = _rescore(queries, keys, part[local_np], col_np)
        order = np.lexsort((col_np, -vals, local_np))
        counts = np.bincount(local_np, minlength=len(part))
        if (counts < k).any():  # pragma: no cover - would mean the error bound was violated
            raise RuntimeError("exact re-search found fewer than k neighbours")
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        take = order[(first[:, None] + np.arange(k)).ravel()].reshape(len(part), k)
        sims[start : start + len(part)] = vals[take]
        idx[start : start + len(part)] = col_np[take]
    return sims, idx


def _torch_proposals(
    queries: np.ndarray, keys: np.ndarray, width: int, col_width: int, chunk_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """GEMM candidates per query row and, optionally, per key (column) from the same blocks.

    One pass over S = queries · keysᵀ in blocks of ``chunk_size`` query rows: each block's row
    top-``width`` gives the query→key candidates, its column top-``col_width`` (merged into a
    running [col_width, n_keys] top list) gives the key→query candidates. Mining needs both
    directions, so computing S once halves the GEMM work of two separate searches. All blocks
    are written into buffers allocated once: fresh ones would be page-faulted (and zeroed by
    the kernel) on every block and leave the heap fragmented.
    """
    n_q, n_k = queries.shape[0], keys.shape[0]
    q, kt = _tensor(queries), _tensor(keys).T
    rows = min(chunk_size, n_q)
    block = torch.empty((rows, n_k), dtype=torch.float32)
    row_val = torch.empty((rows, width), dtype=torch.float32)
    row_idx = torch.empty((n_q, width), dtype=torch.int64)
    row_floor = np.full(n_q, -np.inf, dtype=np.float32)
    # Column candidates: rows [0, kept) hold the running best, [kept, kept + new) the block's.
    col_val = torch.empty((2 * col_width, n_k), dtype=torch.float32)
    col_idx = torch.empty((2 * col_width, n_k), dtype=torch.int64)
    best_val = torch.empty((col_width, n_k), dtype=torch.float32)
    best_pos = torch.empty((col_width, n_k), dtype=torch.int64)
    best_idx = torch.empty((col_width, n_k), dtype=torch.int64)
    kept = 0
    with _ieee_matmul():
        for start in range(0, n_q, chunk_size):
            stop = min(start + chunk_size, n_q)
            s = block[: stop - start]
            torch.matmul(q[start:stop], kt, out=s)
            if width:
                torch.topk(s, width, dim=1, out=(row_val[: stop - start], row_idx[start:stop]))
                if width < n_k:
                    row_floor[start:stop] = row_val[: stop - start, -1].numpy()
            if col_width:
                new = min(col_width, stop - start)
                out_v, out_i = col_val[kept : kept + new], col_idx[kept : kept + new]
                torch.topk(s, new, dim=0, out=(out_v, out_i))
                out_i += start
                total = kept + new
                keep = min(col_width, total)
                torch.topk(col_val[:total], keep, dim=0, out=(best_val[:keep], best_pos[:keep]))
                torch.gather(col_idx[:total], 0, best_pos[:keep], out=best_idx[:keep])
                col_val[:keep].copy_(best_val[:keep])
                col_idx[:keep].copy_(best_idx[:keep])
                kept = keep
    row_idx_np = row_idx.numpy()
    if not col_width:
        return row_idx_np, row_floor, None, None
    col_floor = np.full(n_k, -np.inf, dtype=np.float32)
    if col_width < n_q:
        col_floor = col_val[col_width - 1].numpy().copy()
    return row_idx_np, row_floor, col_idx[:col_width].T.contiguous().numpy(), col_floor


def _faiss_proposals(
    queries: np.ndarray, keys: np.ndarray, width: int, chunk_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Candidates from faiss IndexFlatIP, the index XTREME's knnCPU uses for cosine."""
    faiss = _faiss()
    index = faiss.IndexFlatIP(keys.shape[1])
    index.add(keys)
    idx = np.empty((queries.shape[0], width), dtype=np.int64)
    floor = np.full(queries.shape[0], -np.inf, dtype=np.float32)
    for start in range(0, queries.shape[0], chunk_size):
        d, i = index.search(queries[start : start + chunk_size], width)
        idx[start : start + len(i)] = i
        if width < keys.shape[0]:
            floor[start : start + len(i)] = d[:, -1]
    return idx, floor


def _check_engine(engine: str) -> None:
    if engine not in ("torch", "faiss"):
        raise ValueError(f"engine must be 'torch' or 'faiss', got {engine!r}")


def knn(
    queries: np.ndarray | torch.Tensor,
    keys: np.ndarray | torch.Tensor,
    k: int,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    engine: Engine = "torch",
) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product k nearest neighbours (cosine for L2-normalised rows).

    Returns ``(similarities [n, k] float32, indices [n, k] int64)``, each row sorted by
    similarity descending with ties broken by the lower key index. This is what XTREME's
    ``knnCPU`` (faiss ``IndexFlatIP``) computes, except that faiss leaves tie order unspecified
    and its values depend on its internal GEMM blocking: here similarities are canonical
    (see the module docstring), so results do not depend on ``chunk_size``, threads or engine;
    they can differ from a plain float32 matmul in the last bit.

    Peak working memory is about ``chunk_size × len(keys)`` float32 (one block of similarity
    rows) on top of the inputs; the faiss engine also copies ``keys`` into its index.
    """
    _check_engine(engine)
    q, kmat = _as_matrix(queries, "queries"), _as_matrix(keys, "keys")
    if q.shape[1] != kmat.shape[1]:
        raise ValueError(f"queries have dimension {q.shape[1]}, keys {kmat.shape[1]}")
    if not 1 <= k <= kmat.shape[0]:
        raise ValueError(f"k must be between 1 and the number of keys ({kmat.shape[0]}), got {k}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    if q.shape[0] == 0:
        return np.empty((0, k), np.float32), np.empty((0, k), np.int64)
    width = min(kmat.shape[0], k + _EXTRA)
    if engine == "faiss":
        cand, floor = _faiss_proposals(q, kmat, width, chunk_size)
    else:
        cand, floor, _, _ = _torch_proposals(q, kmat, width, 0, chunk_size)
    return _certified_topk(q, kmat, cand, floor, k, chunk_size)


def _bidirectional_knn(
    x: np.ndarray, y: np.ndarray, kx: int, ky: int, chunk_size: int, engine: Engine
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x→y top-kx and y→x top-ky; the torch engine derives both from one pass over x·yᵀ."""
    wx, wy = min(y.shape[0], kx + _EXTRA), min(x.shape[0], ky + _EXTRA)
    if engine == "faiss":
        cx, fx = _faiss_proposals(x, y, wx, chunk_size)
        cy, fy = _faiss_proposals(y, x, wy, chunk_size)
    else:
        cx, fx, cy_opt, fy_opt = _torch_proposals(x, y, wx, wy, chunk_size)
        assert cy_opt is not None and fy_opt is not None
        cy, fy = cy_opt, fy_opt
    x2y_sim, x2y_ind = _certified_topk(x, y, cx, fx, kx, chunk_size)
    y2x_sim, y2x_ind = _certified_topk(y, x, cy, fy, ky, chunk_size)
    return x2y_sim, x2y_ind, y2x_sim, y2x_ind


# --------------------------------------------------------------------------------------------
# BUCC: margin-based mining


@dataclass(frozen=True)
class Candidates:
    """Mined pairs in acceptance order (score descending): ``src[i]`` ↔ ``tgt[i]``.

    Indices refer to the rows of the ``x``/``y`` matrices given to
    :func:`ratio_margin_candidates`; scores are ratio margins (float32, as XTREME computes them).
    """

    src: np.ndarray
    tgt: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.score)

    def as_dict(self) -> dict[tuple[Hashable, Hashable], float]:
        """``{(src, tgt): score}`` in acceptance order, like XTREME's candidate2score."""
        return {
            (s, t): v
            for s, t, v in zip(
                self.src.tolist(), self.tgt.tolist(), self.score.tolist(), strict=True
            )
        }


def ratio_margin_candidates(
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    k: int = 4,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    engine: Engine = "torch",
    mining_threshold: float | None = 0.0,
) -> Candidates:
    """BUCC candidate pairs exactly as XTREME's ``mine_bitext`` (mode="mine", retrieval="max",
    margin="ratio") produces them, from L2-normalised source rows ``x`` and target rows ``y``.

    Steps (google-research/xtreme third_party/utils_retrieve.py, ``mine_bitext``):

    1. kNN x→y with ``min(len(y), k)`` neighbours and y→x with ``min(len(x), k)``; the mean of
       each row's neighbour similarities is that sentence's neighbourhood density.
    2. ``score_candidates``: for each of those neighbours, margin = cos(x_i, y_j) /
       ((x2y_mean[i] + y2x_mean[j]) / 2) — a ratio that discounts hubs and dense regions.
    3. Forward best (argmax over a source's k candidates, first maximum wins) and backward best.
    4. "max" retrieval: both lists are concatenated (all forward entries, then all backward ones)
       and visited by score descending; a pair is accepted when neither side was used yet.
       Both sides count as used even when the pair is then dropped by the threshold.

    ``mining_threshold``: ``mine_bitext`` writes a pair only if its score is strictly above its
    ``threshold`` argument, 0 by default (XTREME never passes another), so pairs with score
    ≤ 0 never reach ``bucc_optimize``. The default keeps that; ``None`` returns every accepted
    pair. No F1-optimal threshold is applied here (see :func:`best_threshold`).

    Deviations, all at the level of ties and float rounding: XTREME visits scores in
    ``np.argsort(-scores)`` (quicksort, unspecified tie order); here the sort is stable, so on
    equal scores forward entries come before backward ones and lower indices first. Neighbour
    similarities are canonical (see :func:`knn`) and the margin numerator reuses them, where
    XTREME recomputes ``x.dot(y)`` in float32 numpy; so forward and backward scores of one pair
    are bit-identical here. All kNN work is chunked; results do not depend on ``chunk_size``.
    """
    _check_engine(engine)
    xm, ym = _as_matrix(x, "x"), _as_matrix(y, "y")
    if xm.shape[1] != ym.shape[1]:
        raise ValueError(f"x has dimension {xm.shape[1]}, y {ym.shape[1]}")
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    _check_normalised(xm, "x")
    _check_normalised(ym, "y")
    nx, ny = xm.shape[0], ym.shape[0]
    if nx == 0 or ny == 0:
        empty = np.empty(0, np.int64)
        return Candidates(empty, empty.copy(), np.empty(0, np.float32))

    kx, ky = min(ny, k), min(nx, k)
    x2y_sim, x2y_ind, y2x_sim, y2x_ind = _bidirectional_knn(xm, ym, kx, ky, chunk_size, engine)
    x2y_mean = x2y_sim.mean(axis=1)
    y2x_mean = y2x_sim.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fwd_scores = x2y_sim / ((x2y_mean[:, None] + y2x_mean[x2y_ind]) / 2)
        bwd_scores = y2x_sim / ((y2x_mean[:, None] + x2y_mean[y2x_ind]) / 2)
    fwd_arg, bwd_arg = fwd_scores.argmax(axis=1), bwd_scores.argmax(axis=1)
    fwd_best = x2y_ind[np.arange(nx), fwd_arg]
    bwd_best = y2x_ind[np.arange(ny), bwd_arg]
    src_all = np.concatenate([np.arange(nx, dtype=np.int64), bwd_best])
    tgt_all = np.concatenate([fwd_best, np.arange(ny, dtype=np.int64)])
    score_all = np.concatenate(
        [fwd_scores[np.arange(nx), fwd_arg], bwd_scores[np.arange(ny), bwd_arg]]
    )

    used_src, used_tgt = bytearray(nx), bytearray(ny)
    accepted: list[int] = []
    src_list, tgt_list = src_all.tolist(), tgt_all.tolist()
    for pos in np.argsort(-score_all, kind="stable").tolist():
        s, t = src_list[pos], tgt_list[pos]
        if not used_src[s] and not used_tgt[t]:
            used_src[s] = used_tgt[t] = 1
            accepted.append(pos)
    keep = np.asarray(accepted, dtype=np.int64)
    if mining_threshold is not None:
        keep = keep[score_all[keep] > mining_threshold]
    return Candidates(src_all[keep], tgt_all[keep], score_all[keep].astype(np.float32))


# --------------------------------------------------------------------------------------------
# BUCC: threshold and F1


def _scored_items(
    candidates: Candidates | ScoredPairs,
) -> list[tuple[tuple[Hashable, Hashable], float]]:
    if isinstance(candidates, Candidates):
        return list(candidates.as_dict().items())
    return [(pair, float(score)) for pair, score in candidates.items()]


def pairs_above(
    candidates: Candidates | ScoredPairs, threshold: float
) -> set[tuple[Hashable, Hashable]]:
    """Pairs scoring ``>= threshold`` (XTREME ``bucc_extract``; note ``>=`` here, where mining
    itself filters with ``>``)."""
    return {pair for pair, score in _scored_items(candidates) if score >= threshold}


def best_threshold(
    candidates: Candidates | ScoredPairs, gold: AbstractSet[tuple[Hashable, ...]]
) -> tuple[float, dict[str, float]]:
    """F1-optimal score threshold and the metrics of the pairs it extracts (XTREME
    ``bucc_optimize`` then ``bucc_eval``).

    Candidates are sorted by score descending (a stable sort: equal scores keep the input
    order, as Python's ``sorted`` does on XTREME's dict) and extracted one at a time; whenever
    F1 strictly improves, the threshold becomes the midpoint between the current score and the
    next one. The threshold starts at 0, so with no correct candidate it stays 0. The metrics
    are then recomputed on ``pairs_above(candidates, threshold)`` as ``bucc_eval`` does, so when
    the optimum falls inside a run of equal scores every pair of that score is extracted and the
    reported F1 can differ from the swept one.

    One deviation: when the optimum is the last candidate, XTREME reads ``items[i + 1]`` and
    raises IndexError; here the threshold is then that candidate's score (which, with ``>=``,
    extracts the same pairs a midpoint below it would).

    XTREME's BUCC driver (third_party/evaluate_retrieval.py) re-optimises on every split that
    has a gold file (its ``best_threshold`` variable is never used); jiant's
    xtreme_submission.py applies the dev threshold to test. To do the latter, call this on dev
    and :func:`pairs_above` on test.
    """
    items = sorted(_scored_items(candidates), key=lambda item: -item[1])
    n_gold = len(gold)
    correct = 0
    threshold, best = 0.0, 0.0
    for i, (pair, score) in enumerate(items):
        if pair in gold:
            correct += 1
        if correct > 0:
            precision, recall = correct / (i + 1), correct / n_gold
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best:
                best = f1
                threshold = (score + items[i + 1][1]) / 2 if i + 1 < len(items) else score
    return threshold, set_f1(pairs_above(candidates, threshold), gold)


# --------------------------------------------------------------------------------------------
# BUCC: duplicate sentences


def unique_sentences(
    ids: Sequence[Hashable], sentences: Sequence[str]
) -> tuple[list[str], dict[str, list[Hashable]]]:
    """Distinct sentences in first-occurrence order and, per sentence, the ids carrying it.

    BUCC corpora repeat sentences; XTREME mines on distinct texts (``text_load_unify``) so that
    a repeated sentence does not compete with itself for a partner. Texts are compared exactly;
    XTREME's file readers compare whole lines when unifying but ``strip()``-ed lines when
    mapping back to ids, so strip beforehand if your texts can differ only in outer whitespace.
    """
    if len(ids) != len(sentences):
        raise ValueError(f"{len(ids)} ids but {len(sentences)} sentences")
    groups: dict[str, list[Hashable]] = {}
    for sentence_id, text in zip(ids, sentences, strict=True):
        groups.setdefault(text, []).append(sentence_id)
    return list(groups), groups


def unique_embedding_rows(sentences: Sequence[str]) -> np.ndarray:
    """For each distinct sentence (first-occurrence order), the row of the embedding matrix to
    mine with: its *last* occurrence, as XTREME's ``unique_embeddings`` picks it (a dict
    comprehension that keeps overwriting). Identical texts normally embed identically."""
    last: dict[str, int] = {}
    for row, text in enumerate(sentences):
        last[text] = row
    # dict order is first insertion; re-assignment keeps the position but updates the row
    return np.fromiter(last.values(), dtype=np.int64, count=len(last))


def expand_pairs(
    candidates: Candidates,
    src_texts: Sequence[str],
    src_ids_by_text: Mapping[str, Sequence[Hashable]],
    tgt_texts: Sequence[str],
    tgt_ids_by_text: Mapping[str, Sequence[Hashable]],
    *,
    duplicates: DuplicatePolicy = "xtreme",
) -> dict[tuple[Hashable, Hashable], float]:
    """Map pairs of distinct-sentence rows back to id pairs, ``{(src_id, tgt_id): score}``.

    ``duplicates="xtreme"`` (default) follows XTREME's ``read_sent2id``/``read_candidate2score``:
    a sentence that occurs more than once maps to *no* id, so every mined pair involving it is
    discarded (its gold pairs can then only count as misses). ``duplicates="all"`` follows
    jiant's ``Bucc2018EvaluationScheme``: the pair expands to every (src id, tgt id) combination
    of the two texts. An id pair reached twice keeps the larger score (``read_candidate2score``).
    """
    if duplicates not in ("xtreme", "all"):
        raise ValueError(f"duplicates must be 'xtreme' or 'all', got {duplicates!r}")
    out: dict[tuple[Hashable, Hashable], float] = {}
    for s, t, score in zip(
        candidates.src.tolist(), candidates.tgt.tolist(), candidates.score.tolist(), strict=True
    ):
        src_ids = src_ids_by_text[src_texts[s]]
        tgt_ids = tgt_ids_by_text[tgt_texts[t]]
        if duplicates == "xtreme":
            if len(src_ids) != 1 or len(tgt_ids) != 1:
                continue
            pairs: Iterator[tuple[Hashable, Hashable]] = iter([(src_ids[0], tgt_ids[0])])
        else:
            pairs = itertools.product(src_ids, tgt_ids)
        for pair in pairs:
            out[pair] = max(score, out.get(pair, score))
    return out


def mine_id_pairs(
    src_ids: Sequence[Hashable],
    src_sentences: Sequence[str],
    x: np.ndarray | torch.Tensor,
    tgt_ids: Sequence[Hashable],
    tgt_sentences: Sequence[str],
    y: np.ndarray | torch.Tensor,
    *,
    k: int = 4,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    engine: Engine = "torch",
    duplicates: DuplicatePolicy = "xtreme",
    mining_threshold: float | None = 0.0,
) -> dict[tuple[Hashable, Hashable], float]:
    """(id, sentence, embedding-row) lists per side → scored id pairs, the way XTREME's BUCC
    pipeline gets from its .txt/.id/embedding files to ``candidate2score``: unify sentences,
    mine on the distinct ones, map back to ids. Feed the result to :func:`best_threshold` /
    :func:`pairs_above` together with gold id pairs."""
    xm, ym = _as_matrix(x, "x"), _as_matrix(y, "y")
    if len(src_sentences) != xm.shape[0] or len(tgt_sentences) != ym.shape[0]:
        raise ValueError("each side needs one embedding row per sentence")
    src_texts, src_groups = unique_sentences(src_ids, src_sentences)
    tgt_texts, tgt_groups = unique_sentences(tgt_ids, tgt_sentences)
    candidates = ratio_margin_candidates(
        xm[unique_embedding_rows(src_sentences)],
        ym[unique_embedding_rows(tgt_sentences)],
        k,
        chunk_size=chunk_size,
        engine=engine,
        mining_threshold=mining_threshold,
    )
    return expand_pairs(
        candidates, src_texts, src_groups, tgt_texts, tgt_groups, duplicates=duplicates
    )


def mine_ids(
    embed: Callable[[list[str]], np.ndarray | torch.Tensor],
    source: Mapping[Id, str],
    target: Mapping[Id, str],
    *,
    k: int = 4,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    engine: Engine = "torch",
    duplicates: DuplicatePolicy = "xtreme",
    mining_threshold: float | None = 0.0,
) -> dict[tuple[Hashable, Hashable], float]:
    """:func:`mine_id_pairs` for ``{id: sentence}`` maps, embedding each distinct sentence once.

    ``embed`` turns a list of sentences into L2-normalised rows. XTREME embeds every line and
    keeps the last occurrence's row; for a deterministic encoder that is the same vector.
    """
    src_texts, src_groups = unique_sentences(list(source), list(source.values()))
    tgt_texts, tgt_groups = unique_sentences(list(target), list(target.values()))
    candidates = ratio_margin_candidates(
        embed(src_texts),
        embed(tgt_texts),
        k,
        chunk_size=chunk_size,
        engine=engine,
        mining_threshold=mining_threshold,
    )
    return expand_pairs(
        candidates, src_texts, src_groups, tgt_texts, tgt_groups, duplicates=duplicates
    )


# --------------------------------------------------------------------------------------------
# Tatoeba


def top1_accuracy(
    queries: np.ndarray | torch.Tensor,
    keys: np.ndarray | torch.Tensor,
    gold_index: Sequence[int] | np.ndarray,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    engine: Engine = "torch",
) -> dict[str, float]:
    """Tatoeba accuracy ×100: share of queries whose nearest key (cosine) is the gold one.

    XTREME's ``similarity_search(x, y)`` indexes the non-English side ``x`` and searches it with
    the English sentences ``y`` (faiss ``IndexFlatL2`` on normalised vectors, which ranks as
    cosine), and ``evaluate.py``'s ``accuracy`` compares the predicted row with the label: so
    pass English embeddings as ``queries`` and the other language's as ``keys``.
    """
    gold = np.asarray(gold_index, dtype=np.int64)
    q = _as_matrix(queries, "queries")
    if gold.shape != (q.shape[0],):
        raise ValueError(f"{q.shape[0]} queries but {gold.shape} gold indices")
    if q.shape[0] == 0:
        raise ValueError("no queries to score")
    _, idx = knn(q, keys, 1, chunk_size=chunk_size, engine=engine)
    return {"accuracy": float((idx[:, 0] == gold).mean() * 100)}


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "Candidates",
    "best_threshold",
    "expand_pairs",
    "knn",
    "map_at_k",
    "mine_id_pairs",
    "mine_ids",
    "pairs_above",
    "ratio_margin_candidates",
    "set_f1",
    "top1_accuracy",
    "unique_embedding_rows",
    "unique_sentences",
]
