"""Running planned experiments: training phases through transformers.Trainer, evaluating
them, and the models, adapters and multi-task machinery they need.

The only package that imports torch, transformers, datasets, peft and accelerate at module
level (ruff's TID253 holds the rest of stilts to that).
"""
