"""XLM-R large in a stilts phase on a GPU: its speed against the same Trainer run by hand,
its tokens per second and model FLOPs utilisation, its peak memory, and evaluation sorted by
length against rows in file order.

bench/phase_overhead.py measures what stilts adds around a phase with the bundled tiny
model on a CPU, where the training loop is a few seconds of small matrices. This bench asks
the same question where the study runs: an XLM-R-large-shaped encoder (24 layers, hidden
1024, XLM-R's 250,002-row embedding, so the optimiser and the FLOPs are the real model's;
random weights built from its config, nothing downloaded) on MNLI-shaped sentence pairs,
3 labels, max length 256, batch 32, in the precision stilts resolves on the machine.

The data are synthetic, in MNLI's schema, written as a local mirror where the `mnli` task
reads it. Each row's length (premise + hypothesis, special tokens included) is drawn
log-normal with a median of 45 tokens and σ = 0.5 (mean ≈ 51, 99th percentile ≈ 144:
chosen to resemble MNLI and XNLI pairs in XLM-R's tokens, not fitted to them), the
hypothesis 20-45 % of the words, the rare rows beyond 256 tokens truncated to 256 as the
real ones are. Every word is one token of a tokenizer trained on the synthetic words, so the
drawn lengths are the lengths trained.

Both sides train the same rows from the same weights with the same arguments for the same
number of optimiser steps (one epoch of steps × 32 rows). The stilts side is a real phase:
the chain `mnli xnli` planned (`plan(ChainConfig(...))`) and its first phase trained with
`train_phase`, as `stilts chain` does, in the chain's resolved precision; the hand-written
side loads, tokenises and builds Trainer itself, with the TrainingArguments stilts would
pass typed out (precision flags from `trainer_precision`). Each side runs once to warm up,
then `--repeats` times, in ABBA order; a callback times Trainer's training loop, the wall
clock the whole run (planning, loading, tokenising, saving). The ratios are hand-written /
stilts medians: at or above 1.0 stilts is not slower (goal ≥ 1.0; the loop is the same
Trainer code on both sides, so its ratio is run-to-run noise unless stilts computes
something else, such as another attention implementation: both are printed).

How to read the other figures:

* tokens/s: real (non-padding) tokens trained per second of the training loop.
* MFU: model FLOPs per second over the GPU's peak dense 16-bit FLOPs (`PEAKS`). A row of n
  real tokens costs 6·N·n + 12·L·H·n² FLOPs (forward and backward: N the model's
  parameters outside the embedding layer, whose lookup is no matrix multiply; L layers of
  hidden size H attending over the row's n tokens). Padding counts as waste, not work;
  gradient checkpointing's recomputation is not counted either. Goal ≥ 40 % in bf16 on an
  H100-class GPU; n/a on a CPU or in fp32/tf32 (the table holds 16-bit peaks), unknown on a
  GPU the table lacks.
* peak memory: `torch.cuda.max_memory_allocated` over a run, reset before each.
* evaluation: rows/s of `Trainer.predict` over a dev set of the same length distribution,
  read in file order and in `length_order` (as stilts evaluates, the outputs put back in
  row order), with the padding cost (`padding_cost`: tokens computed per real token) of
  each order at the evaluation batch size. Goal: ≤ 1.10 sorted.
* `--compile`: a third side, the stilts phase with `torch_compile`; its loop against the
  plain stilts loop (compilation included), its steady step time against the plain one
  (median of each run's second half of steps), and the compilation time, estimated as the
  compiled loop less the plain loop scaled to the compiled steady speed (the first
  compiled run, caches cold in this process, and the later ones).

    python bench/gpu.py [--precision auto|fp32|bf16|fp16] [--compile] [--steps N]
                        [--repeats N] [--json PATH] [--cpu-tiny | --quick]

The default run needs a CUDA GPU. It is sized to take about 5 minutes on an H100 (an
estimate made without one): building and saving the model, then 8 runs of 100 steps (a
warm-up and 3 timed runs per side) and the evaluations. `--compile` adds a
compiled run per cycle and minutes of compilation (`--repeats 1` keeps it short).
`--cpu-tiny` (`--quick`, the tests' name) runs the same code on a tiny shape (hidden 64,
2 layers, the tokenizer's vocabulary, rows of median 16 tokens up to 64, batch 8, 4 steps) in
well under a minute; on a GPU machine, on the GPU, as a smoke test of the full run.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    logging,
)

from stilts.errors import StiltsError
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import ChainPlan, plan
from stilts.experiment.precision import Resolved, this_machine, trainer_precision
from stilts.runtime.arguments import training_arguments
from stilts.runtime.features import rows, tokenized
from stilts.runtime.options import RunOptions
from stilts.runtime.phase_model import load_trained
from stilts.runtime.predict import in_row_order, length_order, padding_cost
from stilts.runtime.training import ModelSource, features, train_phase
from stilts.tasks.plugins.nli import GLUE_MNLI, NLI_HEAD
from stilts.tasks.task import Hyperparameters
from stilts.testing import TINY_CONFIG, train_tokenizer, write_table

CHAIN = ("mnli", "xnli")
SEED = 0
SIGMA = 0.5
"""σ of the log-normal row lengths (in log tokens)."""
SPECIALS = 4
"""Special tokens of an XLM-R pair: <s> premise </s></s> hypothesis </s>."""
LARGE = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "max_position_embeddings": 514,
    "type_vocab_size": 1,
    "layer_norm_eps": 1e-5,
}
"""xlm-roberta-large's config.json, its vocabulary and special ids aside."""
XLMR_VOCAB = 250002


@dataclass(frozen=True)
class Shape:
    """What is trained and evaluated."""

    name: str
    config: dict[str, Any]
    vocab_size: int | None
    """Rows of the embedding matrix; None: the tokenizer's vocabulary."""
    words: int
    """Word types of the synthetic language."""
    max_length: int
    median_tokens: int
    batch_size: int
    steps: int
    """Optimiser steps per run."""
    repeats: int
    """Timed runs per side, after one warm-up run each."""
    eval_rows: int


FULL_SHAPE = Shape("XLM-R large", LARGE, XLMR_VOCAB, 3000, 256, 45, 32, 100, 3, 2048)
TINY_SHAPE = Shape("tiny", TINY_CONFIG, None, 300, 64, 16, 8, 4, 2, 256)

PEAKS = (
    ("H100 PCIe", r"H100.*PCIe", 756e12),
    ("H100 SXM", r"H100.*(SXM|HBM3)", 989e12),
    ("H200", r"H200(?!.*NVL)", 989e12),
    ("A100", r"A100", 312e12),
    ("L4", r"\bL4\b", 121e12),
    ("V100 SXM2 (fp16)", r"V100-SXM2", 125e12),
)
"""Peak dense bf16 (V100: fp16) FLOP/s, by a pattern of `torch.cuda.get_device_name()`."""


def say(message: str) -> None:
    """A progress line (stderr: stdout holds the figures)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Synthetic data and model


def vocabulary(shape: Shape, rng: np.random.Generator) -> tuple[Any, list[str]]:
    """A tokenizer trained on random words, and the words it keeps as one token each."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = sorted({"".join(rng.choice(letters, rng.integers(2, 8))) for _ in range(shape.words)})
    tokenizer = train_tokenizer([" ".join(words)] * 3, vocab_size=2 * len(words) + 100)
    single = [w for w in words if len(tokenizer(w, add_special_tokens=False).input_ids) == 1]
    return tokenizer, single


def pairs(rng: np.random.Generator, n: int, words: list[str], shape: Shape) -> datasets.Dataset:
    """`n` MNLI rows whose pairs are log-normal in length (see the module's docstring), words
    drawn by Zipf's law over `words`."""
    weights = 1.0 / np.arange(1, len(words) + 1)
    lengths = np.rint(rng.lognormal(np.log(shape.median_tokens), SIGMA, n)).astype(int)
    premises, hypotheses = [], []
    for length in np.maximum(lengths - SPECIALS, 2):
        hypothesis = min(max(1, round(rng.uniform(0.2, 0.45) * length)), length - 1)
        drawn = rng.choice(words, length, p=weights / weights.sum())
        premises.append(" ".join(drawn[hypothesis:]))
        hypotheses.append(" ".join(drawn[:hypothesis]))
    schema = datasets.Features(
        {
            "premise": datasets.Value("string"),
            "hypothesis": datasets.Value("string"),
            "label": datasets.ClassLabel(names=list(NLI_HEAD.labels)),
            "idx": datasets.Value("int32"),
        }
    )
    table = {
        "premise": premises,
        "hypothesis": hypotheses,
        "label": rng.integers(0, len(NLI_HEAD.labels), n).tolist(),
        "idx": list(range(n)),
    }
    return datasets.Dataset.from_dict(table, features=schema)


def build_model(out_dir: Path, shape: Shape, tokenizer: Any) -> None:
    """A randomly initialised masked-LM checkpoint of `shape` with `tokenizer`, saved as a hub
    checkpoint is (safetensors); built on the GPU where there is one (seconds, not minutes)."""
    config = XLMRobertaConfig(
        vocab_size=shape.vocab_size or len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **shape.config,
    )
    torch.manual_seed(SEED)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = XLMRobertaForMaskedLM(config)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    del model
    release_memory()


def write_mirror(root: Path, shape: Shape, words: list[str], rng: np.random.Generator) -> None:
    """MNLI's training rows (exactly `steps` batches) and dev rows, where `mnli` reads them."""
    train = pairs(rng, shape.steps * shape.batch_size, words, shape)
    write_table(root, GLUE_MNLI, GLUE_MNLI.split("train"), train)
    write_table(root, GLUE_MNLI, GLUE_MNLI.split("dev"), pairs(rng, shape.eval_rows, words, shape))


# The two sides


class Stopwatch(TrainerCallback):
    """Trainer's training loop timed whole, and each optimiser step: on a GPU by CUDA events
    on its stream (the host runs ahead of the GPU), else by the host's clock."""

    def on_train_begin(self, args, state, control, **kwargs):
        self.marks = [mark()]
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.marks.append(mark())

    def on_train_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.seconds = time.perf_counter() - self.started
        self.steps = [between(a, b) for a, b in zip(self.marks, self.marks[1:], strict=False)]


def mark() -> Any:
    """Now: a CUDA event recorded on the current stream, or the host's clock."""
    if not torch.cuda.is_available():
        return time.perf_counter()
    event = torch.cuda.Event(enable_timing=True)
    event.record()
    return event


def between(start: Any, end: Any) -> float:
    """Seconds from one `mark` to a later one."""
    if isinstance(start, float):
        return end - start
    return start.elapsed_time(end) / 1000


def release_memory() -> None:
    """Free what the last run left, so each run's peak memory is its own."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def with_stilts(config: ChainConfig, options: RunOptions, out: Path) -> str:
    """The phase as a chain trains it (`stilts.runtime.engine.train`), planning included, its
    dev scoring left out (the hand-written side has none); the attention it ran."""
    chain = plan(config)
    phase = chain.phases[0]
    source = ModelSource(config.model.id)
    record = train_phase(
        [member.bound(chain.data) for member in phase.members],
        source,
        chain.data,
        phase.hyperparameters,
        config.seed,
        out,
        options,
        sampler=phase.sampler,
        start=source,
        adapter=phase.adapter,
        selection=phase.selection,
        aggregate=phase.aggregate,
        precision=chain.precision,
        group_by_length=phase.group_by_length,
    )
    return record.attention


def by_hand(
    model_dir: Path,
    files: str,
    hp: Hyperparameters,
    precision: Resolved,
    watch: Stopwatch,
    out: Path,
) -> str:
    """What a researcher writes without stilts: load, tokenise, Trainer, save; the attention
    it ran (transformers' default)."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    table = datasets.load_dataset("parquet", data_files={"train": files}, split="train")

    def tokenize(batch):
        encoded = tokenizer(
            batch["premise"], batch["hypothesis"], truncation=True, max_length=hp.max_length
        )
        encoded["labels"] = batch["label"]
        return encoded

    train = table.map(tokenize, batched=True, remove_columns=table.column_names)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=3)
    args = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        learning_rate=hp.learning_rate,
        per_device_train_batch_size=hp.batch_size,
        per_device_eval_batch_size=hp.batch_size * 2,
        num_train_epochs=hp.epochs,
        warmup_steps=hp.warmup_ratio,
        weight_decay=hp.weight_decay,
        seed=SEED,
        save_strategy="steps",
        save_steps=1000,
        save_total_limit=1,
        logging_steps=50,
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=torch.cuda.is_available(),
        use_cpu=not torch.cuda.is_available(),
        **trainer_precision(precision),
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        callbacks=[watch],
    )
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    trainer.save_model(str(out / "model"))
    return str(model.config._attn_implementation)


@dataclass(frozen=True)
class Run:
    """One run of one side."""

    wall: float
    loop: float
    """Seconds in Trainer's training loop."""
    steps: list[float]
    """Seconds of each optimiser step."""
    peak_memory: int | None
    """Bytes: `torch.cuda.max_memory_allocated`; None without a GPU."""
    attention: str


Side = Callable[[Stopwatch, Path], str]
"""Trains once into a directory, timed by the Stopwatch; returns the attention it ran."""


def timed(side: Side, out: Path) -> Run:
    release_memory()
    watch = Stopwatch()
    wall = time.perf_counter()
    attention = side(watch, out)
    wall = time.perf_counter() - wall
    memory = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    return Run(wall, watch.seconds, watch.steps, memory, attention)


@dataclass
class Runs:
    """A side's warm-up run and its timed runs."""

    first: Run
    timed: list[Run] = field(default_factory=list)

    def median(self, figure: str) -> float:
        return statistics.median(getattr(run, figure) for run in self.timed)

    def steady_step(self) -> float:
        """The median step time over the second half of each timed run (compiled, settled)."""
        return statistics.median(s for run in self.timed for s in run.steps[len(run.steps) // 2 :])


def race(sides: dict[str, Side], repeats: int, work: Path) -> dict[str, Runs]:
    """Each side once to warm up, then `repeats` times in ABBA order. Only the first warm-up
    stilts run's model is kept (the evaluations read it); every other is deleted when done."""
    runs: dict[str, Runs] = {}
    for name, side in sides.items():
        say(f"warm-up run: {name}")
        runs[name] = Runs(timed(side, work / f"warm-{name}"))
        if name != "stilts":
            shutil.rmtree(work / f"warm-{name}")
        say(f"  {runs[name].first.loop:.2f} s in the loop, {runs[name].first.wall:.2f} s in all")
    order = list(sides)
    for i in range(repeats):
        for name in order if i % 2 == 0 else reversed(order):
            say(f"run {i + 1}/{repeats}: {name}")
            out = work / f"{name}{i}"
            run = timed(sides[name], out)
            shutil.rmtree(out)
            runs[name].timed.append(run)
            say(f"  {run.loop:.2f} s in the loop, {run.wall:.2f} s in all")
    return runs


# Evaluation


@dataclass(frozen=True)
class Evaluation:
    batch_size: int
    unsorted_rows_per_second: float
    sorted_rows_per_second: float
    unsorted_padding: float
    sorted_padding: float
    agreement: float
    """Share of rows whose predicted label is the same in both orders."""


def evaluation(chain: ChainPlan, model_dir: Path, repeats: int) -> Evaluation:
    """Predictions over the dev rows in file order and in length order, as
    `stilts.runtime.predict.evaluate_languages` makes them (its Trainer, precision and
    collator), timed in ABBA order after a warm-up batch."""
    member = chain.phases[0].members[0].bound(chain.data)
    task, hp = member.trained_task, member.hyperparameters
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    inputs = tokenized(
        task, rows(task, "dev", "en", chain.data, hp, SEED), tokenizer, hp.max_length
    )
    order = length_order(inputs["input_ids"])
    lengths = [len(ids) for ids in inputs["input_ids"]]
    with tempfile.TemporaryDirectory(prefix="stilts-bench-eval-") as scratch:
        trainer = Trainer(
            model=load_trained(task, model_dir),
            args=training_arguments(
                Path(scratch), hp, SEED, RunOptions(), precision=chain.precision, train=False
            ),
            data_collator=task.head.collator(tokenizer),
            processing_class=tokenizer,
            preprocess_logits_for_metrics=task.head.reduce_outputs,
        )
        batch = trainer.args.eval_batch_size

        def unsorted() -> np.ndarray:
            return trainer.predict(inputs).predictions

        def by_length() -> np.ndarray:
            return in_row_order(trainer.predict(inputs.select(order)).predictions, order)

        trainer.predict(inputs.select(order[:batch]))  # warm-up: the longest batch
        seconds: dict[str, list[float]] = {"unsorted": [], "sorted": []}
        outputs: dict[str, np.ndarray] = {}
        ways = [("unsorted", unsorted), ("sorted", by_length)]
        for i in range(repeats):
            for name, predict in ways if i % 2 == 0 else reversed(ways):
                started = time.perf_counter()
                outputs[name] = predict()
                seconds[name].append(time.perf_counter() - started)
    agree = outputs["unsorted"].argmax(-1) == outputs["sorted"].argmax(-1)
    return Evaluation(
        batch_size=batch,
        unsorted_rows_per_second=len(lengths) / statistics.median(seconds["unsorted"]),
        sorted_rows_per_second=len(lengths) / statistics.median(seconds["sorted"]),
        unsorted_padding=padding_cost(lengths, batch),
        sorted_padding=padding_cost([lengths[i] for i in order], batch),
        agreement=float(agree.mean()),
    )


# Figures


def non_embedding_parameters(model_dir: Path) -> int:
    """Parameters of the trained classification model outside its embedding layer (counted on
    the meta device: no memory)."""
    config = AutoConfig.from_pretrained(model_dir, num_labels=len(NLI_HEAD.labels))
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    every = sum(p.numel() for p in model.parameters())
    return every - sum(p.numel() for p in model.base_model.embeddings.parameters())


def model_flops(lengths: Sequence[int], parameters: int, layers: int, hidden: int) -> float:
    """Training FLOPs of rows of `lengths` real tokens: 6·N·n + 12·L·H·n² each."""
    return float(sum(6 * parameters * n + 12 * layers * hidden * n * n for n in lengths))


def peak(name: str) -> tuple[str, float] | None:
    """The `PEAKS` entry for a GPU named `name`; None if the table lacks it."""
    for label, pattern, flops in PEAKS:
        if re.search(pattern, name):
            return label, flops
    return None


def mfu_line(flops_per_second: dict[str, float], gpu: str | None, precision: Resolved) -> str:
    achieved = "  ".join(f"{side} {f / 1e12:.4f}" for side, f in flops_per_second.items())
    tail = f"(model TFLOP/s {achieved}; goal ≥ 40 % in bf16 on H100-class)"
    if gpu is None:
        return f"MFU          n/a on CPU {tail}"
    if precision not in ("bf16", "fp16"):
        return f"MFU          n/a: the peaks are 16-bit and this run is {precision} {tail}"
    known = peak(gpu)
    if known is None:
        return f"MFU          unknown: no peak for {gpu} in the table {tail}"
    label, flops = known
    shares = "  ".join(f"{side} {100 * f / flops:.1f} %" for side, f in flops_per_second.items())
    return f"MFU          {shares} of {label} {flops / 1e12:.0f} TFLOP/s {tail}"


def report(
    shape: Shape,
    chain: ChainPlan,
    runs: dict[str, Runs],
    lengths: list[int],
    parameters: int,
    evaluated: Evaluation,
) -> dict[str, Any]:
    """Print the figures; return them for `--json`."""
    gpu = this_machine().name if torch.cuda.is_available() else None
    stilts, hand = runs["stilts"], runs["hand-written"]
    layers, hidden = shape.config["num_hidden_layers"], shape.config["hidden_size"]
    tokens = sum(lengths)
    flops = model_flops(lengths, parameters, layers, hidden)
    figures: dict[str, Any] = {
        "device": gpu or "cpu",
        "precision": chain.precision,
        "attention": {name: side.first.attention for name, side in runs.items()},
        "shape": shape.name,
        "steps": shape.steps,
        "batch_size": shape.batch_size,
        "repeats": shape.repeats,
        "non_embedding_parameters": parameters,
        "tokens_per_run": tokens,
        "runs": {
            name: [asdict(run) | {"steps": len(run.steps)} for run in [side.first, *side.timed]]
            for name, side in runs.items()
        },
    }
    attention = ", ".join(f"{name} {side.first.attention}" for name, side in runs.items())
    print(
        f"device       {gpu or 'cpu (no GPU)'}; precision {chain.precision}; attention {attention}"
    )
    print(
        f"shape        {shape.name}: {layers} layers, hidden {hidden}, "
        f"{parameters / 1e6:.1f}M non-embedding parameters; max length {shape.max_length}, "
        f"batch {shape.batch_size}, {shape.steps} steps per run, {shape.repeats} runs per side "
        "after a warm-up"
    )
    print(
        f"train rows   {len(lengths)}: real tokens median {statistics.median(lengths):.0f}, "
        f"mean {statistics.mean(lengths):.1f}, p99 {np.percentile(lengths, 99):.0f}, "
        f"max {max(lengths)} (log-normal, median {shape.median_tokens}, σ {SIGMA})"
    )
    for label, figure in (("loop", "loop"), ("wall", "wall")):
        s, h = stilts.median(figure), hand.median(figure)
        figures[f"{figure}_ratio"] = h / s
        print(
            f"{label:12s} stilts {s:.3f} s  hand-written {h:.3f} s  "
            f"ratio hand / stilts {h / s:.3f} (goal ≥ 1.0)"
        )
    speed = {name: tokens / runs[name].median("loop") for name in ("stilts", "hand-written")}
    figures["tokens_per_second"] = speed
    print(
        f"tokens/s     stilts {speed['stilts']:.0f}  hand-written {speed['hand-written']:.0f}  "
        f"({tokens} real tokens per run / loop seconds)"
    )
    flops_per_second = {name: flops * s / tokens for name, s in speed.items()}
    figures["model_flops_per_second"] = flops_per_second
    known = peak(gpu) if gpu is not None and chain.precision in ("bf16", "fp16") else None
    figures["mfu"] = {n: f / known[1] for n, f in flops_per_second.items()} if known else None
    print(mfu_line(flops_per_second, gpu, chain.precision))
    if gpu is None:
        print("peak memory  n/a on CPU")
    else:
        memory = {
            name: max(run.peak_memory or 0 for run in side.timed) for name, side in runs.items()
        }
        figures["peak_memory_bytes"] = memory
        print("peak memory  " + "  ".join(f"{n} {b / 2**30:.2f} GiB" for n, b in memory.items()))
    figures["evaluation"] = asdict(evaluated)
    print(
        f"eval unsorted {evaluated.unsorted_rows_per_second:.1f} rows/s  padding cost "
        f"{evaluated.unsorted_padding:.3f}  (batch {evaluated.batch_size}, file order)"
    )
    print(
        f"eval sorted   {evaluated.sorted_rows_per_second:.1f} rows/s  padding cost "
        f"{evaluated.sorted_padding:.3f} (goal ≤ 1.10)  speed-up "
        f"{evaluated.sorted_rows_per_second / evaluated.unsorted_rows_per_second:.3f}; "
        f"labels agree on {100 * evaluated.agreement:.1f} % of rows"
    )
    if "compiled" in runs:
        figures["compile"] = compile_figures(stilts, runs["compiled"])
    return figures


def compile_figures(plain: Runs, compiled: Runs) -> dict[str, float]:
    """`torch_compile`'s gain and cost against the plain stilts side, printed."""
    loop, loop_c = plain.median("loop"), compiled.median("loop")
    step, step_c = plain.steady_step(), compiled.steady_step()
    scaled = loop * step_c / step  # the plain loop at the compiled steady speed
    first, later = compiled.first.loop - scaled, loop_c - scaled
    print(
        f"compile      loop plain {loop:.3f} s  compiled {loop_c:.3f} s  ratio {loop / loop_c:.3f} "
        "(compilation included)"
    )
    print(
        f"compile      steady step plain {1000 * step:.2f} ms  compiled {1000 * step_c:.2f} ms  "
        f"ratio {step / step_c:.3f}; compilation ≈ {first:.1f} s first run, {later:.1f} s later"
    )
    return {
        "loop_ratio": loop / loop_c,
        "steady_step_ratio": step / step_c,
        "compile_seconds_first": first,
        "compile_seconds_later": later,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cpu-tiny", "--quick", dest="tiny", action="store_true",
        help="the tiny shape (the tests), runnable without a GPU",
    )  # fmt: skip
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto")
    parser.add_argument("--compile", action="store_true", help="also time torch_compile")
    parser.add_argument("--steps", type=int, help="optimiser steps per run")
    parser.add_argument("--repeats", type=int, help="timed runs per side")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args()
    if not options.tiny and not torch.cuda.is_available():
        sys.exit(
            "bench/gpu.py: the full XLM-R-large shape needs a CUDA GPU and torch sees none "
            "here; pass --cpu-tiny for the tiny shape on the CPU"
        )
    shape = TINY_SHAPE if options.tiny else FULL_SHAPE
    shape = replace(
        shape, steps=options.steps or shape.steps, repeats=options.repeats or shape.repeats
    )
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    datasets.disable_progress_bars()
    work = Path(tempfile.mkdtemp(prefix="stilts-bench-gpu-"))
    try:
        figures = measure(shape, options.precision, options.compile, work)
    except StiltsError as error:
        sys.exit(f"bench/gpu.py: {error}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2) + "\n")


def measure(shape: Shape, precision: str, compiled: bool, work: Path) -> dict[str, Any]:
    """Build, race the sides, evaluate; print and return the figures."""
    rng = np.random.default_rng(SEED)
    model_dir, mirror = work / "model", work / "mirror"
    say(f"building the {shape.name} model and its data")
    tokenizer, words = vocabulary(shape, rng)
    build_model(model_dir, shape, tokenizer)
    write_mirror(mirror, shape, words, rng)
    config = ChainConfig(
        phases=CHAIN,
        model={"id": str(model_dir)},
        data=str(mirror),
        hyperparameters={
            "batch_size": shape.batch_size,
            "max_length": shape.max_length,
            "max_train_examples": shape.steps * shape.batch_size,
            "epochs": 1,
        },
        select="last",
        precision=precision,
        seed=SEED,
    )
    chain = plan(config)
    member = chain.phases[0].members[0].bound(chain.data)
    trained, _ = features(member, chain.data, tokenizer, SEED)
    lengths = [len(ids) for ids in trained["input_ids"]]
    # The numbers a researcher types into the hand-written run.
    hp = chain.phases[0].hyperparameters
    files = str(mirror / GLUE_MNLI.repo / GLUE_MNLI.pattern(GLUE_MNLI.split("train")))
    sides: dict[str, Side] = {
        "stilts": lambda watch, out: with_stilts(config, RunOptions(callbacks=(watch,)), out),
        "hand-written": lambda watch, out: by_hand(
            model_dir, files, hp, chain.precision, watch, out
        ),
    }
    if compiled:
        options = RunOptions(compile=True)
        sides["compiled"] = lambda watch, out: with_stilts(
            config, replace(options, callbacks=(watch,)), out
        )
    runs = race(sides, shape.repeats, work)
    say("evaluating, rows in file order and in length order")
    evaluated = evaluation(chain, work / "warm-stilts" / "model", shape.repeats)
    return report(shape, chain, runs, lengths, non_embedding_parameters(model_dir), evaluated)


if __name__ == "__main__":
    main()
