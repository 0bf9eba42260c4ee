"""Metrics with official XTREME semantics and the reports built from them."""
