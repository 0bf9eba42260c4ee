"""stilts: intermediate-task transfer experiments for zero-shot cross-lingual NLP.

Kept import-light on purpose: `stilts --help` and `stilts tasks` import this package and
must not pay for torch or transformers. Plugins import what they need from `stilts.api`.
"""

from stilts import _moved
from stilts.errors import StiltsError
from stilts.tasks.data import DataLocator, HubSource, Role
from stilts.tasks.task import Hyperparameters, Task

__version__ = "0.2.0"

__all__ = [
    "DataLocator",
    "HubSource",
    "Hyperparameters",
    "Role",
    "StiltsError",
    "Task",
    "__version__",
]

_moved.install()
