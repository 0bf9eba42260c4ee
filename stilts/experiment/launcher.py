"""Where an experiment's jobs run: the ``launcher`` of a recipe, or ``--launcher``.

Like the other specs, a launcher is written ``KIND[:key=value,…]`` on the command line
(``slurm:partition=gpu,gpus=1,time=720``) or as a mapping in a recipe, where it also takes
extra ``#SBATCH`` settings (``sbatch: {qos: high}``) and shell lines to run before each job
(``setup: [module load cuda]``). It says how jobs run, not what they compute: no fingerprint
covers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from stilts.experiment.specs import parsed, spec_items
from stilts.schema import Strict, takes_short_form


class Launcher(Strict):
    """How and where the jobs of an experiment run."""

    model_config = ConfigDict(json_schema_extra=takes_short_form)
    EXAMPLES: ClassVar[tuple[str, ...]] = (
        "local:workers=2", "slurm:partition=gpu,gpus=1,time=720",
    )  # fmt: skip

    kind: Literal["local", "slurm"]
    """local: submitit's local executor on this machine; slurm: a SLURM cluster."""
    workers: int = Field(default=1, ge=1, strict=True)
    """local: jobs at a time, each on its own GPU where the machine has GPUs."""
    retries: int = Field(default=1, ge=0, strict=True)
    """Times a failed job is submitted again before it is reported."""
    gpus: int | None = Field(default=None, ge=0, strict=True)
    """GPUs per job (default: 1 on SLURM; on this machine, 1 where it has GPUs, else 0)."""
    cpus: int | None = Field(default=None, ge=1, strict=True)
    """slurm: CPUs per job (``--cpus-per-task``)."""
    mem: int | None = Field(default=None, ge=1, strict=True)
    """slurm: memory per job in GB (``--mem``)."""
    time: int = Field(default=24 * 60, ge=1, strict=True)
    """Minutes a job may run (``--time``); a job stopped by it is requeued and resumes."""
    partition: str | None = None
    """slurm: the partition (``--partition``)."""
    account: str | None = None
    """slurm: the account charged (``--account``)."""
    qos: str | None = None
    """slurm: the quality of service (``--qos``)."""
    sbatch: dict[str, str] = Field(default_factory=dict)
    """slurm: further ``#SBATCH`` settings, name -> value (``constraint: a100``)."""
    setup: list[str] = Field(default_factory=list)
    """Shell lines each job runs first (``module load cuda``, ``source venv/bin/activate``)."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            return spec_items(value)
        return value

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Launcher:
        if self.kind == "local":
            cluster = ("cpus", "mem", "partition", "account", "qos", "sbatch")
            given = [name for name in cluster if name in self.model_fields_set]
            if given:
                raise ValueError(
                    f"{', '.join(given)} is for a SLURM launcher; a local one takes workers, "
                    "retries, gpus, time and setup"
                )
        elif "workers" in self.model_fields_set:
            raise ValueError("workers is for a local launcher: SLURM runs as many as it can")
        return self

    @property
    def cluster_gpus(self) -> int:
        """GPUs per SLURM job: as given, else 1."""
        return 1 if self.gpus is None else self.gpus

    @classmethod
    def parse(cls, value: str | Mapping[str, Any], option: str = "--launcher") -> Launcher:
        return parsed(cls, value, option, cls.EXAMPLES)
