"""Benchmarks for `assistant`: retrieval (BEIR), extractive answers (SQuAD), speed and memory, tuning.

Run `python -m benchmarks --help`. Every figure in docs/benchmarks.md comes from `python -m benchmarks run`.
"""
