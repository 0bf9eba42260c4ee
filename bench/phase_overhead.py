"""Overhead of a stilts phase versus the same Trainer run written by hand.

Both sides train the demo's first phase (`stilts chain mnli xnli`: mnli on the bundled sample,
from the bundled tiny model) with the same arguments and data: the demo's settings, 3 epochs
of the 2,400-row sample. The stilts side is what a chain does for that phase: it plans the
chain (`plan(ChainConfig(...))`: the task resolved, its hyperparameters, the fingerprints)
and trains the phase's members with `train_phase`, which loads through DataLocator, builds the
head by encoder hand-off and publishes the model atomically. The runs alternate in ABBA order
so drifting machine load hits both sides alike; the ratio of medians is printed.
Target: ≤ 1.03.

    python bench/phase_overhead.py [--quick]

The default (11 runs of each side) takes about two minutes on 2 cores. `--quick` (the tests)
runs one ABBA cycle on 64 rows for one epoch: the same code, measuring nothing worth quoting.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    logging,
)

from stilts.experiment import bundled
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.bundled_model import materialize
from stilts.runtime.options import RunOptions
from stilts.runtime.training import ModelSource, train_phase
from stilts.store.layout import Store
from stilts.tasks.task import Hyperparameters

CHAIN = ("mnli", "xnli")
REPEATS = 11
QUICK_REPEATS = 2
QUICK_HYPERPARAMETERS = {"max_train_examples": 64, "epochs": 1}
"""Over the demo's: two optimiser steps of the same batch size and length."""


def demo(seed: int, hyperparameters: dict[str, Any]) -> ChainConfig:
    """The demo chain as `stilts chain mnli xnli` configures it (bundled model, sample data)."""
    return ChainConfig(phases=CHAIN, seed=seed, hyperparameters=hyperparameters)


class Stopwatch(TrainerCallback):
    """Time spent inside Trainer's training loop, which both sides share."""

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_train_end(self, args, state, control, **kwargs):
        self.seconds = time.perf_counter() - self.started


def timed(side: Callable[..., None], *args: Any) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, wall seconds outside the training loop) of one run."""
    watch = Stopwatch()
    wall, cpu = time.perf_counter(), time.process_time()
    side(*args, watch)
    wall = time.perf_counter() - wall
    return wall, time.process_time() - cpu, wall - watch.seconds


def by_hand(model_dir: Path, out: Path, hp: Hyperparameters, seed: int, watch: Stopwatch) -> None:
    """What a researcher writes without stilts: load, tokenise, Trainer, save."""
    import datasets

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    files = str(bundled.SAMPLE_DATA / "nyu-mll" / "glue" / "mnli" / "train-*.parquet")
    table = datasets.load_dataset("parquet", data_files={"train": files}, split="train")
    if hp.max_train_examples is not None:
        table = table.shuffle(seed=seed).select(range(hp.max_train_examples))

    def tokenize(batch):
        features = tokenizer(
            batch["premise"], batch["hypothesis"], truncation=True, max_length=hp.max_length
        )
        features["labels"] = batch["label"]
        return features

    train = table.map(tokenize, batched=True, remove_columns=table.column_names)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=3)
    args = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        learning_rate=hp.learning_rate,
        per_device_train_batch_size=hp.batch_size,
        num_train_epochs=hp.epochs,
        warmup_steps=hp.warmup_ratio,
        weight_decay=hp.weight_decay,
        seed=seed,
        save_strategy="steps",
        save_steps=1000,
        save_total_limit=1,
        logging_steps=50,
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=False,
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


def with_stilts(model_dir: Path, out: Path, config: ChainConfig, watch: Stopwatch) -> None:
    """The phase as a chain trains it (`stilts.runtime.engine.train`), planning included (a
    chain plans before it trains), its dev scoring left out (the hand-written side has none)."""
    chain = plan(config)
    phase = chain.phases[0]
    source = ModelSource(str(model_dir))
    train_phase(
        [member.bound(chain.data) for member in phase.members],
        source,
        chain.data,
        phase.hyperparameters,
        config.seed,
        out,
        RunOptions(callbacks=(watch,)),
        sampler=phase.sampler,
        start=source,
        adapter=phase.adapter,
    )


def main() -> None:
    import datasets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one tiny ABBA cycle (the tests)")
    quick = parser.parse_args().quick
    repeats = QUICK_REPEATS if quick else REPEATS
    sizes = QUICK_HYPERPARAMETERS if quick else {}
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    datasets.disable_progress_bars()
    work = Path(tempfile.mkdtemp(prefix="stilts-bench-"))
    try:
        model_dir = materialize(Store(work / "store"))
        # The numbers a researcher types into the hand-written run, the same for every seed.
        hp = plan(demo(0, sizes)).phases[0].hyperparameters

        def sides(seed: int) -> list[tuple[str, Callable[..., None], tuple]]:
            config = demo(seed, sizes)
            return [("s", with_stilts, (config,)), ("h", by_hand, (hp, seed))]

        for tag, side, args in sides(0):  # fill the datasets cache and warm both sides
            side(model_dir, work / f"warm-{tag}", *args, Stopwatch())
        times: dict[str, list[tuple[float, float, float]]] = {"s": [], "h": []}
        for i in range(repeats):  # ABBA order, so neither side always runs first
            runs = sides(i)
            for tag, side, args in runs if i % 2 == 0 else reversed(runs):
                times[tag].append(timed(side, model_dir, work / f"{tag}{i}", *args))
        for kind, index in (("wall", 0), ("CPU", 1)):
            s = statistics.median(t[index] for t in times["s"])
            h = statistics.median(t[index] for t in times["h"])
            print(
                f"{kind:4s} stilts {s:6.2f} s  hand-written {h:6.2f} s  "
                f"ratio {s / h:.3f} (target ≤ 1.03)"
            )
        # The training loop is the same Trainer code on both sides, so its run-to-run noise
        # (often ±10 % here) swamps the ratio above; what stilts adds lies outside it.
        s = statistics.median(t[2] for t in times["s"])
        h = statistics.median(t[2] for t in times["h"])
        print(f"outside the training loop: stilts {s:.3f} s, hand-written {h:.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
