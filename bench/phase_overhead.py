"""Overhead of a stilts phase versus the same Trainer run written by hand.

Both sides train the same task (mnli on the bundled sample) from the same tiny model with the
same arguments and data; stilts additionally resolves the task, loads through DataLocator,
builds the head by encoder hand-off and publishes the model atomically. The runs alternate
(stilts, by hand, stilts, …) so drifting machine load hits both; the ratio of medians is
printed. Target: ≤ 1.03.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    PrinterCallback,
    Trainer,
    TrainingArguments,
    logging,
)

from stilts import bundled, registry
from stilts.arguments import RunOptions
from stilts.data import DataLocator
from stilts.store import Store
from stilts.training import ModelSource, train_phase

REPEATS = 5


def by_hand(model_dir: Path, out: Path, hp, seed: int) -> float:
    """What a researcher writes without stilts: load, tokenise, Trainer, save."""
    import datasets

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    glue = bundled.SAMPLE_DATA / "nyu-mll" / "glue"
    table = datasets.load_dataset(
        str(glue), data_files={"train": "mnli/train-*.parquet"}, split="train"
    )

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
    )
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    trainer.save_model(str(out / "model"))
    return time.perf_counter() - started


def with_stilts(model_dir: Path, out: Path, hp, seed: int) -> float:
    started = time.perf_counter()
    task = registry.load("mnli")
    data = DataLocator(bundled.SAMPLE_DATA)
    train_phase(task, ModelSource(str(model_dir)), data, hp, seed, out, RunOptions())
    return time.perf_counter() - started


def main() -> None:
    logging.set_verbosity_error()
    work = Path(tempfile.mkdtemp(prefix="stilts-bench-"))
    try:
        model_dir = bundled.materialize(Store(work / "store"))
        hp = registry.load("mnli").defaults.updated(bundled.SMOKE_HYPERPARAMETERS)
        hp = hp.updated({"epochs": 1.0})
        with_stilts(model_dir, work / "warmup", hp, 0)  # fill caches for both sides
        stilts_times, hand_times = [], []
        for i in range(REPEATS):
            stilts_times.append(with_stilts(model_dir, work / f"s{i}", hp, i))
            hand_times.append(by_hand(model_dir, work / f"h{i}", hp, i))
        s, h = statistics.median(stilts_times), statistics.median(hand_times)
        print(f"stilts phase  median {s:6.2f} s  runs {[round(t, 2) for t in stilts_times]}")
        print(f"hand-written  median {h:6.2f} s  runs {[round(t, 2) for t in hand_times]}")
        print(f"ratio stilts / hand-written: {s / h:.3f} (target ≤ 1.03)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
