"""Trainable parameters and peak memory of adapter phases (LoRA, IA3) versus full fine-tuning.

Builds a tiny XLM-R larger than the test one (hidden 256, 4 layers, 4 heads, FFN 1024, a BPE
vocabulary trained on a generated corpus) in a temporary directory, then trains a
classification head on it with transformers.Trainer for ``--steps`` steps of ``--batch``
sequences of ``--length`` tokens, three ways: (a) full fine-tuning, (b) LoRA, (c) IA3, each
with stilts' default options and built as a phase builds it (`prepare_model`).

Each variant runs in a fresh subprocess, so its peak memory is its own: peak resident memory
(ru_maxrss, the whole process: Python, torch, model, data) and the peak above what the process
held just before training (VmHWM after resetting it through /proc/self/clear_refs: gradients,
optimizer state, activations), plus torch.cuda.max_memory_allocated on a GPU. The children run
with glibc's MALLOC_MMAP_THRESHOLD_ fixed at 128 KiB, so every tensor buffer is mapped on its
own and returned to the system when freed: resident memory then follows the live tensors
rather than the high-water mark of malloc's heap, which otherwise hides most of the
difference between the variants.

    python bench/adapters.py [--quick] [--steps 8] [--batch 16] [--length 128]

The default takes one to two minutes on 2 cores. `--quick` (the tests) trains the same model
2 steps of 4 × 32 tokens: the children's start-up is most of its time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {"full": None, "lora": "lora", "ia3": "ia3"}
"""Variant name -> adapter spec (None: full fine-tuning)."""
MODEL = {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4}
MODEL["intermediate_size"] = 4 * MODEL["hidden_size"]
QUICK = {"steps": 2, "batch": 4, "length": 32}
"""`--quick`'s defaults (explicit options still win)."""


def corpus(rows: int, seed: int = 0) -> list[str]:
    """Sentences over a generated lexicon of 3,000 pseudo-words (a label word in each)."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    lexicon = ["".join(rng.choices(syllables, k=rng.randint(1, 3))) for _ in range(3000)]
    return [
        " ".join([rng.choice(("apple", "stone")), *rng.choices(lexicon, k=rng.randint(40, 120))])
        for _ in range(rows)
    ]


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def child(variant: str, model_dir: Path, steps: int, batch: int, length: int) -> None:
    """Train one variant and print its measurements as one JSON line."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer, Trainer, TrainingArguments
    from transformers import logging as transformers_logging

    from stilts.experiment.specs import Adapter
    from stilts.runtime import adapters
    from stilts.tasks.heads import SequenceClassification

    transformers_logging.set_verbosity_error()
    head = SequenceClassification(labels=("apple", "stone"), text_columns=("sentence1",))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    texts = corpus(steps * batch, seed=1)
    encoded = tokenizer(texts, truncation=True, max_length=length, padding="max_length")
    rows = [
        {"input_ids": ids, "attention_mask": mask, "labels": int(text.startswith("stone"))}
        for ids, mask, text in zip(
            encoded["input_ids"], encoded["attention_mask"], texts, strict=True
        )
    ]
    encoder = AutoModel.from_pretrained(model_dir)
    model = head.model_with_encoder(AutoConfig.from_pretrained(model_dir), encoder)
    spec = VARIANTS[variant]
    adapter = Adapter.parse(spec, option="--adapter") if spec else None
    adapters.prepare_model(model, model_dir, adapter)
    count = adapters.count_parameters(model)
    cuda = torch.cuda.is_available()
    args = TrainingArguments(
        output_dir=str(model_dir.parent / f"run-{variant}"),
        max_steps=steps,
        per_device_train_batch_size=batch,
        learning_rate=1e-3 if spec else 5e-5,
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=not cuda,
        seed=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=rows)
    held = _status_mib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        above = "VmHWM"
    except OSError:
        above = None
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    hwm = _status_mib("VmHWM") if above else None
    result = {
        "variant": variant,
        "trainable": count.trainable,
        "total": count.total,
        "percent": count.percent,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "training_mib": hwm - held if hwm is not None and held is not None else None,
        "cuda_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        "seconds_per_step": seconds / steps,
        "device": torch.cuda.get_device_name()
        if cuda
        else f"cpu, {torch.get_num_threads()} threads",
    }
    print(json.dumps(result))


def run_child(variant: str, model_dir: Path, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", variant, "--model", str(model_dir)]
    command += ["--steps", str(args.steps), "--batch", str(args.batch)]
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}
    done = subprocess.run(
        [*command, "--length", str(args.length)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode:
        sys.exit(f"{variant} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the tests)")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        parser.set_defaults(**QUICK)
        args = parser.parse_args()
    if args.child:
        child(args.child, args.model, args.steps, args.batch, args.length)
        return

    from stilts.testing import build_tiny_model

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "model", corpus(4000), vocab_size=8000, **MODEL)
        results = {variant: run_child(variant, model_dir, args) for variant in VARIANTS}

    full = results["full"]
    print(
        f"tiny XLM-R {MODEL}, vocab 8000 + classification head; {args.steps} Trainer steps of "
        f"{args.batch} × {args.length} tokens; {full['device']}"
    )
    header = f"{'variant':<8} {'trainable':>10} {'% total':>8} {'peak RSS MiB':>13}"
    header += f" {'training MiB':>13} {'CUDA MiB':>9} {'s/step':>7}"
    print(header)
    for name, r in results.items():
        print(
            f"{name:<8} {r['trainable']:>10,} {r['percent']:>7.2f}% {_mib(r['peak_rss_mib']):>13}"
            f" {_mib(r['training_mib']):>13} {_mib(r['cuda_mib']):>9} {r['seconds_per_step']:>7.3f}"
        )
    print("ratio adapter / full:")
    for name in ("lora", "ia3"):
        r = results[name]
        ratios = [f"trainable {r['trainable'] / full['trainable']:.4f}"]
        for key, label in (
            ("peak_rss_mib", "peak RSS"),
            ("training_mib", "training MiB"),
            ("cuda_mib", "CUDA"),
        ):
            if r[key] is not None and full[key]:
                ratios.append(f"{label} {r[key] / full[key]:.2f}")
        print(f"  {name:<6} " + ", ".join(ratios))
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
