"""The huge-photo timing helper of eval.bench_robustness: wall clock and peak RSS of a child process."""

from __future__ import annotations

import sys

import pytest

from eval import bench_robustness
from eval.bench_robustness import timed_run

#: A child that touches 120 MB, then exits with status 3.
TOUCHES_120_MB = "import sys; b = bytearray(120_000_000); b[::4096] = bytes(len(b[::4096])); sys.exit(3)"


@pytest.mark.skipif(not bench_robustness.GNU_TIME.is_file(), reason="no /usr/bin/time")
def test_a_timed_run_reports_the_childs_peak_memory_and_exit_status():
    small = timed_run([sys.executable, "-c", "pass"])
    big = timed_run([sys.executable, "-c", TOUCHES_120_MB])
    assert small["exit"] == 0 and big["exit"] == 3 and big["rss_from"] == "/usr/bin/time -v"
    assert big["max_rss_mb"] >= small["max_rss_mb"] + 100  # the 120 MB it touched
    assert big["wall_s"] > 0 and big["load_1min"] >= 0


def test_without_gnu_time_the_run_is_timed_with_wait4(monkeypatch, tmp_path):
    monkeypatch.setattr(bench_robustness, "GNU_TIME", tmp_path / "no-time")
    run = timed_run([sys.executable, "-c", TOUCHES_120_MB])
    assert run["exit"] == 3 and run["rss_from"] == "wait4" and run["max_rss_mb"] >= 115
