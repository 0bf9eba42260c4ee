"""The run store: where phases, runs and results live on disk, written so that nothing
half-written is ever trusted, checked so that nothing damaged is, and locked so that one
process writes each phase and each run."""
