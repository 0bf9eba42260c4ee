"""Metrics with official XTREME semantics, and predictions written as its submission files."""
