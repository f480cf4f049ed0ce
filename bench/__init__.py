"""Benchmarks of the service against the local Kafka broker and a local HTTP sink.

`python -m bench.run` (`make bench`) runs the scenarios of docs/BENCHMARKS.md and prints their
ratios; `python -m bench.run --soak` (`make bench-soak`) runs the 10-minute memory soak.
"""
