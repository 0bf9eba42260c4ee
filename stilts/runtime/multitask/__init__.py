"""Multi-task intermediate phases: how tasks share one phase's optimiser steps."""
