"""The bundled demo computes on one torch thread unless OMP_NUM_THREADS says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import torch
torch.set_num_threads(2)
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.engine import set_threads
set_threads(plan(ChainConfig(phases=("mnli", "xnli"))))
print(torch.get_num_threads())
"""


@pytest.mark.parametrize(("omp", "threads"), [(None, "1"), ("2", "2")])
def test_the_bundled_model_runs_on_one_thread_unless_told(omp, threads):
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.split()[-1] == threads
