"""What an experiment is, before anything runs: chains of phases, grids, recipes and plans.

A recipe (or a command line) becomes chain configurations, and planning turns each into
phases with fingerprints: every task resolved and every setting checked, with no torch, so
a bad input fails before any training.
"""
