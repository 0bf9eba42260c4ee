"""Stores of finished runs written without training, whose answers are known by construction.

Each run is written the way `stilts.experiment.chain.run` writes one (results.json and
results.csv, manifest.json last, with the keys the analyses read), so an analysis reading it
reads exactly what it would read from a real grid; only the scores are planted. The writer is
`stilts.reports.analysis.simulate`'s, which the calibration of the analyses writes its
simulated grids with.
"""

from __future__ import annotations

from stilts.reports.analysis.simulate import write_run

__all__ = ["write_run"]
