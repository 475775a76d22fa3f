"""Benchmarks: run on demand (``manage.py benchmark``), print figures, never part of the tests."""

from __future__ import annotations
