"""A working plugin that imports `datasets` at its top, as the plugin guide says not to."""

import dataclasses

import datasets  # noqa: F401  (the point of this plugin)

from stilts.api import Hyperparameters
from stilts.tasks.plugins.nli import mnli

task = dataclasses.replace(mnli, name="heavy", defaults=Hyperparameters(epochs=8))
