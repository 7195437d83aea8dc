"""Benchmarks for the Inbox app: `bash bench/run.sh` (or `make bench`) prints one table."""

from __future__ import annotations
