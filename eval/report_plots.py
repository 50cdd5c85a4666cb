"""The report's plots as inline SVG strings (matplotlib, Agg backend, no files).

Each function takes the run's records and returns ``""`` when it has nothing to draw. Every plot's
axis labels name the scorer behind the numbers.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from eval.runner import RunResult, family_of  # noqa: E402

GREEN, RED, GREY = "#2e7d32", "#c62828", "#9e9e9e"


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def attribute_rows(result: RunResult) -> dict[str, tuple[int, int]]:
    """{attribute: (turns passed, turns)} over dialogue turns and sweeps, in first-seen order."""
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for turn in result.turns:
        for name in turn.attributes:
            rows[name][0] += int(turn.passed)
            rows[name][1] += 1
    for sweep in result.sweeps:
        rows[sweep.attribute][0] += int(sweep.passed)
        rows[sweep.attribute][1] += 1
    return {name: (ok, total) for name, (ok, total) in rows.items()}


def pass_rates(result: RunResult) -> str:
    """Horizontal bars: share of turns (and sweeps) per attribute that met every expectation."""
    rows = attribute_rows(result)
    if not rows:
        return ""
    names = list(rows)
    rates = [rows[n][0] / rows[n][1] for n in names]
    fig, ax = plt.subplots(figsize=(6.2, 0.26 * len(names) + 0.9))
    y = list(range(len(names)))
    ax.barh(y, rates, color=GREEN, label="passed")
    ax.barh(y, [1 - r for r in rates], left=rates, color=RED, label="failed")
    ax.set_yticks(list(y), [f"{n} ({family_of(n)[:4]})" for n in names], fontsize=8)
    for i, n in enumerate(names):
        ax.text(1.01, i, f"{rows[n][0]}/{rows[n][1]}", va="center", fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of turns meeting every expectation (green) / failing one or more (red)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def _single_attribute_points(result: RunResult) -> dict[str, list[tuple[float, float, float | None]]]:
    """{attribute: [(applied strength, identity, None)]} from dialogue turns showing exactly one edit."""
    points: dict[str, list] = defaultdict(list)
    for turn in result.turns:
        identity = turn.measure.get("identity")
        if turn.edited and len(turn.shown) == 1 and identity is not None:
            points[turn.shown[0]["attribute"]].append((turn.shown[0]["strength"], identity))
    return points


def identity_vs_strength(result: RunResult) -> str:
    """Identity similarity against applied strength: sweeps as lines, single-edit dialogue turns as dots."""
    turns = _single_attribute_points(result)
    if not result.sweeps and not turns:
        return ""
    fig, ax = plt.subplots(figsize=(6.2, 3.6))
    colours = plt.get_cmap("tab20")
    names = sorted({s.attribute for s in result.sweeps} | set(turns))
    for i, name in enumerate(names):
        colour = colours(i % 20)
        for sweep in (s for s in result.sweeps if s.attribute == name):
            pts = sorted((p.applied, p.identity) for p in sweep.points if p.identity is not None)
            if pts:
                ax.plot(*zip(*pts, strict=True), "-o", color=colour, ms=4, lw=1.5, label=f"{name} (sweep)")
        if name in turns:
            xs, ys = zip(*turns[name], strict=True)
            ax.scatter(xs, ys, color=colour, marker="x", s=28)
            worst = min(turns[name], key=lambda p: p[1])
            ax.annotate(name, worst, fontsize=6, color=colour, xytext=(3, -3), textcoords="offset points")
    ax.axhline(result.identity_threshold, color=RED, ls="--", lw=1)
    ax.text(
        ax.get_xlim()[0],
        result.identity_threshold,
        " same-person threshold",
        color=RED,
        fontsize=7,
        va="bottom",
    )
    ax.set_xlabel("applied strength (1.0 = the typical full expression)", fontsize=8)
    ax.set_ylabel(f"identity similarity to the original\n({result.identity_scorer}, cosine)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, ncol=2, loc="lower left")
    return _svg(fig)


def response_vs_strength(result: RunResult) -> str:
    """Blendshape response (and emotion probability, dashed) against applied strength, per sweep."""
    sweeps = [s for s in result.sweeps if s.blendshapes or s.emotion_class]
    if not sweeps:
        return ""
    fig, ax = plt.subplots(figsize=(6.2, 3.6))
    colours = plt.get_cmap("tab10")
    twin = None
    for i, sweep in enumerate(sweeps):
        colour = colours(i % 10)
        label = (
            f"{sweep.attribute} [{sweep.image}]" if len({s.image for s in sweeps}) > 1 else sweep.attribute
        )
        pts = sorted((p.applied, p.response) for p in sweep.points if not math.isnan(p.response))
        if pts:
            ax.plot(
                *zip(*pts, strict=True),
                "-o",
                color=colour,
                ms=4,
                label=f"{label}: mean Δ {', '.join(sweep.blendshapes)}",
            )
        emo = sorted((p.applied, p.emotion) for p in sweep.points if p.emotion is not None)
        if emo:
            twin = twin or ax.twinx()
            twin.plot(
                *zip(*emo, strict=True),
                "--s",
                color=colour,
                ms=3,
                lw=1,
                label=f"{label}: p({sweep.emotion_class})",
            )
    ax.axhline(0, color=GREY, lw=0.8)
    ax.set_xlabel("applied strength", fontsize=8)
    ax.set_ylabel("blendshape change vs original\n(FaceLandmarker, 0..1 scores)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if twin is not None:
        twin.set_ylim(-0.02, 1.02)
        twin.set_ylabel("emotion probability (fer mini-Xception), dashed", fontsize=8)
        twin.tick_params(labelsize=8)
        more = twin.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(handles, labels, fontsize=6, loc="upper left")
    return _svg(fig)


def latency_histogram(result: RunResult) -> str:
    """Distribution of per-turn latency of turns that rendered an edit."""
    values = [t.latency_ms for t in result.turns if t.changed and t.latency_ms is not None]
    if len(values) < 2:
        return ""
    fig, ax = plt.subplots(figsize=(6.2, 2.2))
    ax.hist(values, bins=min(20, len(values)), color="#1565c0")
    ax.set_xlabel("Assistant.run wall time of turns that re-rendered (ms, this machine)", fontsize=8)
    ax.set_ylabel("turns", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    return _svg(fig)
