"""Leaderboard campaigns: ``graphkit bench SUITE.yaml`` runs a grid of datasets x models x
options x seeds with the shared trainer, resumably, into an atomic results store, and writes an
aggregated leaderboard (Markdown, CSV, plots) plus OGB / RelBench exports."""
from graphkit.bench.report import aggregate, leaderboard_markdown, write_report
from graphkit.bench.runner import (
                                   BenchRunner,
                                   Suite,
                                   SuiteError,
                                   load_suite,
                                   parse_suite,
                                   point_name,
                                   register_source,
                                   run_suite,
)
from graphkit.bench.store import ResultStore

__all__ = [
                                   "BenchRunner",
                                   "ResultStore",
                                   "Suite",
                                   "SuiteError",
                                   "aggregate",
                                   "leaderboard_markdown",
                                   "load_suite",
                                   "parse_suite",
                                   "point_name",
                                   "register_source",
                                   "run_suite",
                                   "write_report",
]
