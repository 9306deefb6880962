"""Benchmarks: HTTP load against gunicorn (``load``) and a million attempts (``growth``).

Not part of the test suite; run ``./scripts/bench.sh`` (see docs/development.md).
"""
