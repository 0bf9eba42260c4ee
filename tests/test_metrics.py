from __future__ import annotations

import numpy as np
import pytest

from stilts.eval.metrics import accuracy


def test_accuracy_is_reported_times_100():
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2]), "en") == {"accuracy": 75.0}


def test_accuracy_refuses_mismatched_or_empty_inputs():
    with pytest.raises(ValueError, match="de"):
        accuracy(np.array([0, 1]), np.array([0]), "de")
    with pytest.raises(ValueError, match="no examples"):
        accuracy(np.array([]), np.array([]), "fr")
