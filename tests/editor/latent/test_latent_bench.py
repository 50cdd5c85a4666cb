"""eval/bench_latent.py runs end to end and says its figures are plumbing only."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_the_plumbing_benchmark_prints_its_figures(tiny_pipelines, capsys):
    from eval.bench_latent import main

    assert main(["--runs", "1", "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "PLUMBING ONLY" in out and "StableDiffusionInpaintPipeline" in out and "per step" in out
    assert "imported: neither" in out
