"""The command line's options, as typed parameters shared by its commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Model = Annotated[str, typer.Option(help="Hub id or local directory of the starting encoder.")]
Revision = Annotated[
    str | None, typer.Option(help="Hub revision of --model (a branch is pinned to its commit).")
]
Data = Annotated[
    list[str] | None,
    typer.Option(
        help="'sample' (bundled), 'hub', or a local mirror root holding <org>/<dataset> "
        "copies of the hub repos. Default: sample with the bundled model, else hub. "
        "Repeatable: each dataset is read from the first that holds it (--data DIR --data "
        "sample; hub only last)."
    ),
]
StoreRoot = Annotated[
    Path, typer.Option(envvar="STILTS_STORE", help="Where phases and runs are kept.")
]
Seed = Annotated[int, typer.Option(help="Random seed of every phase.")]
LearningRate = Annotated[float | None, typer.Option("--lr")]
Epochs = Annotated[float | None, typer.Option()]
BatchSize = Annotated[int | None, typer.Option(help="Effective batch size.")]
MaxLength = Annotated[int | None, typer.Option()]
MaxTrain = Annotated[int | None, typer.Option()]
MaxEval = Annotated[int | None, typer.Option()]
Layer = Annotated[
    int | None,
    typer.Option(help="Retrieval: hidden layer to pool (default: 14/24 of the depth)."),
]
PerDevice = Annotated[
    int | None, typer.Option(min=1, help="Lower it to fit memory; accumulation keeps the batch.")
]
PrecisionOption = Annotated[
    str,
    typer.Option(
        "--precision",
        help="auto (bf16 on GPUs with it, fp16 on older GPUs, fp32 on CPU), fp32, bf16 or "
        "fp16; training and evaluation. Fingerprinted as resolved on the machine.",
    ),
]
GroupByLength = Annotated[
    bool,
    typer.Option(
        help="Train single-task phases on batches of similar lengths (less padding; other "
        "batches, so fingerprinted; needs --select last)."
    ),
]
Compile = Annotated[
    bool,
    typer.Option(
        "--compile", help="torch.compile the model (faster steps after a slow start; GPU)."
    ),
]
GradientCheckpointing = Annotated[
    bool,
    typer.Option(
        help="Recompute activations in the backward pass: less memory (long QA inputs), "
        "about a third more compute."
    ),
]
Translate = Annotated[
    list[str] | None,
    typer.Option(
        help="Train TASK on translated data: TASK=LANG[,LANG…]; list the task's own "
        "language (en) too to keep its original rows. Repeatable."
    ),
]
TranslatedData = Annotated[
    str | None,
    typer.Option(
        help="Your translated copies of the tasks' files: DIR/<lang>/<org>/<dataset>/…; "
        "default: the task's own translations (mnli, xnli: facebook/xnli)."
    ),
]
Groups = Annotated[
    list[str] | None,
    typer.Option(
        help="Train TASK on some named groups of its rows: TASK=GROUP[,GROUP…] (anli_plus: "
        "anli_r1…3, snli, mnli; mnli: its genres); with --max-train-examples, an equal share "
        "from each. Repeatable."
    ),
]
SamplerOption = Annotated[
    str | None,
    typer.Option(
        help="Multi-task phases: which task each step trains. uniform, proportional[:cap=N],"
        " temperature:T=2[,cap=N] or probabilities:TASK=P,… (default: proportional)."
    ),
]
DevAggregateOption = Annotated[
    str,
    typer.Option(
        help="Multi-task phases: one dev figure from their tasks' main metrics, mean or "
        "weighted:TASK=W,… (what --select best selects by; recorded in phase.json)."
    ),
]
SelectOption = Annotated[
    str | None,
    typer.Option(
        "--select",
        help="Which weights each phase keeps: best (on its English dev set, as the study: "
        "best:every=1000,rows=500,patience=30) or last. Default: best, every 25 steps on the "
        "bundled sample. Fingerprinted.",
    ),
]
AdapterOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Train a PEFT adapter instead of the whole encoder: KIND[:option=value,…] "
        "for every intermediate phase, or PHASE=KIND… for one (kinds: lora, ia3, loha, "
        "lokr; options: handoff=merge|stack, r, alpha, dropout, target_modules=a+b), "
        "e.g. lora or mnli+mlm=lora:handoff=stack. Repeatable."
    ),
]
Languages = Annotated[
    str | None,
    typer.Option(help="Score the target in these languages only: CODE,CODE… (default: all)."),
]
Split = Annotated[str, typer.Option(help="The target's split scored per language: test, or dev.")]
TrustRemoteCode = Annotated[bool, typer.Option(help="Allow the model repo to run its own code.")]
Force = Annotated[
    bool, typer.Option(help="Retrain (once) the phases, and rerun the runs, found in the store.")
]
Plot = Annotated[
    bool,
    typer.Option(help="Draw the figure (PNG; needs matplotlib: pip install 'stilts[plot]')."),
]
PrintRecipe = Annotated[bool, typer.Option(help="Print this as a recipe (YAML) and run nothing.")]
LauncherOption = Annotated[
    str | None,
    typer.Option(
        "--launcher",
        help="Run each phase as a job through submitit: local (this machine; --workers at a "
        "time) or slurm:partition=P,gpus=1,cpus=8,mem=64,time=MIN,account=A (a recipe's "
        "launcher:).",
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(min=1, help="--launcher local: jobs at a time, each on its own GPU if any."),
]
Retries = Annotated[
    int | None,
    typer.Option(min=0, help="With a launcher: resubmit a failed job up to N times (default 1)."),
]
PrintJobs = Annotated[
    bool,
    typer.Option(help="Print the jobs left as JSON (id, command, dependencies); run nothing."),
]
Status = Annotated[
    bool,
    typer.Option(
        help="Show each phase and run: complete, running, failed, queued or waiting; run nothing."
    ),
]
ReportTo = Annotated[
    str | None,
    typer.Option(
        "--report-to",
        help="Log each phase to trackers, as Trainer's report_to: tensorboard, wandb, "
        "trackio, mlflow… (comma-separated; default none). Not fingerprinted.",
    ),
]
