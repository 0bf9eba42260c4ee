"""Run one chain in every process of a `torch.distributed.run` launch (see test_multitask).

    python -m torch.distributed.run --nproc_per_node 2 tests/ddp_chain.py DATA MODEL STORE \
        SETTINGS_JSON PHASE…
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.runner import Runner
from stilts.store.layout import Store

if __name__ == "__main__":
    data, model, store, settings, *phases = sys.argv[1:]
    config = ChainConfig.model_validate(
        {"phases": phases, "model": {"id": model}, "data": data,
         "hyperparameters": json.loads(settings)}
    )  # fmt: skip
    Runner(Store(Path(store))).run(plan(config))
