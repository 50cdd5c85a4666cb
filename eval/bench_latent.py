"""Plumbing benchmark of the latent backend: tiny random-weight pipelines on CPU, and the cold start.

PLUMBING ONLY: the tiny pipelines (`editor.latent.tiny`, 64 px, about 6.5 MB) have random weights, so
the figures say what facechat's loading, masking and paste-back code costs around a pipeline, not what a
real Stable Diffusion or InstructPix2Pix model costs (no such weights can be had here).

    python -m eval.bench_latent [--runs 5] [--steps 4] [--threads 1]

Prints, per family: the build time, the load time through `editor.latent.loading` (median of
``--runs`` fresh loads), the per-step time of one sample on the sample photo's aligned crop (median),
and the whole backend edit (alignment, mask, sample, paste-back, identity check); then the cold start
of the default path (a subprocess that builds the default editor) and whether it imported diffusers or
transformers. Needs ``pip install 'facechat[latent]'``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

COLD_START = """
import sys, time
started = time.perf_counter()
from assistant.session import Assistant
session = Assistant()
names = [b.name for b in session.editor.registry.backends]
print({"seconds": time.perf_counter() - started, "backends": names,
       "heavy": sorted({"diffusers", "transformers"} & set(sys.modules))})
"""


def _median_seconds(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cold_start() -> dict:
    """The default path in a fresh interpreter: seconds to a ready `Assistant`, backends, heavy imports."""
    import ast

    environment = {k: v for k, v in os.environ.items() if k != "FACECHAT_LATENT_MODEL"}
    done = subprocess.run(
        [sys.executable, "-c", COLD_START], env=environment, capture_output=True, text=True, check=True
    )
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def bench(runs: int, steps: int, threads: int) -> dict:
    """Every figure of the module docstring, as a dict."""
    started = time.perf_counter()
    import torch
    from diffusers import DiffusionPipeline  # noqa: F401 - the import is part of what is timed

    import_seconds = time.perf_counter() - started
    torch.set_num_threads(threads)
    from editor.face import FaceAnalyzer
    from editor.images import sample_image
    from editor.latent.backend import LatentBackend, sampler_settings
    from editor.latent.config import LatentConfig
    from editor.latent.loading import load_pipeline
    from editor.latent.prompts import INPAINT, INSTRUCT
    from editor.latent.tiny import build_tiny_pipeline
    from editor.requests import EditRequest

    image = sample_image()
    with FaceAnalyzer() as analyzer:
        face = analyzer.analyze_one(image)
    request = EditRequest(attribute="glasses", strength=1.0, steps=steps)
    out: dict = {"plumbing_only": True, "import_seconds": import_seconds, "threads": threads, "families": {}}
    with tempfile.TemporaryDirectory() as root:
        for family in (INPAINT, INSTRUCT):
            begun = time.perf_counter()
            folder = build_tiny_pipeline(family, Path(root) / family)
            built = time.perf_counter() - begun
            config = LatentConfig(model=folder, identity_threshold=-1.0)
            load = _median_seconds(lambda config=config: load_pipeline(config), runs)
            backend = LatentBackend(config)
            backend.edit(image, face, [request])  # warm-up: first call loads and traces
            edit = _median_seconds(lambda backend=backend: backend.edit(image, face, [request]), runs)
            one = _median_seconds(
                lambda backend=backend: backend.edit(image, face, [request.model_copy(update={"steps": 1})]),
                runs,
            )
            settings = sampler_settings(family, 1.0, steps)
            out["families"][family] = {
                "class": backend.index.class_name,
                "size": backend.pipeline().size,
                "build_seconds": built,
                "load_seconds_median": load,
                "edit_seconds_median": edit,
                "per_step_seconds": (edit - one) / max(settings.denoising_steps - 1, 1),
                "steps": settings.denoising_steps,
            }
    out["cold_start"] = cold_start()
    out["load_average"] = os.getloadavg()  # other work on the machine inflates every figure
    out["cpus"] = os.cpu_count()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions per figure (the median is shown)")
    parser.add_argument("--steps", type=int, default=4, help="denoising steps of the timed edits")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = bench(args.runs, args.steps, args.threads)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return 0
    lines = [
        "Latent backend, PLUMBING ONLY: tiny random-weight pipelines on CPU (not a real model's speed).",
        f"import torch + diffusers: {result['import_seconds']:.2f} s; torch threads: {result['threads']}; "
        f"{result['cpus']} CPUs, load average {', '.join(f'{v:.1f}' for v in result['load_average'])}",
    ]
    for family, row in result["families"].items():
        lines.append(
            f"{family:9s} {row['class']} ({row['size']} px): build {row['build_seconds']:.2f} s, "
            f"load {row['load_seconds_median']:.3f} s, edit of {row['steps']} steps "
            f"{row['edit_seconds_median']:.3f} s, per step {row['per_step_seconds']:.3f} s "
            f"(medians of {args.runs})"
        )
    cold = result["cold_start"]
    lines.append(
        f"cold start of the default path: {cold['seconds']:.2f} s to an Assistant's editor with "
        f"{', '.join(cold['backends'])}; "
        f"diffusers/transformers imported: {', '.join(cold['heavy']) or 'neither'}"
    )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
