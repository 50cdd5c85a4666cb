"""The report's plots as inline SVG strings (matplotlib, Agg backend, no files).

Each function takes the run's records and returns ``""`` when it has nothing to draw. Every plot's
axis labels name the scorer behind the numbers.
"""

from __future__ import annotations

import io
import math
import statistics
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
    """{attribute: [(applied strength, identity)]} from dialogue turns showing exactly one edit."""
    points: dict[str, list] = defaultdict(list)
    for turn in result.turns:
        identity = turn.measure.get("identity")
        if turn.edited and len(turn.shown) == 1 and identity is not None:
            points[turn.shown[0]["attribute"]].append((turn.shown[0]["strength"], identity))
    return points


def _curves(ax, sweeps, value, colour, label: str, style: str = "-o") -> None:
    """One line per sweep; with several photos, thin lines per photo and a bold median (labelled once)."""
    curves = [sorted((p.applied, value(p)) for p in s.points if value(p) is not None) for s in sweeps]
    curves = [c for c in curves if c]
    if not curves:
        return
    if len(curves) == 1:
        ax.plot(*zip(*curves[0], strict=True), style, color=colour, ms=4, lw=1.5, label=label)
        return
    for curve in curves:
        ax.plot(*zip(*curve, strict=True), style[0], color=colour, lw=0.6, alpha=0.35)
    by_strength: dict[float, list[float]] = defaultdict(list)
    for curve in curves:
        for x, y in curve:
            by_strength[round(x, 3)].append(y)
    xs = sorted(by_strength)
    ys = [statistics.median(by_strength[x]) for x in xs]
    ax.plot(xs, ys, style, color=colour, ms=4, lw=2, label=f"{label}, median of {len(curves)} photos")


def identity_vs_strength(result: RunResult) -> str:
    """Identity similarity against applied strength: sweeps as lines, single-edit dialogue turns as dots."""
    turns = _single_attribute_points(result)
    if not result.sweeps and not turns:
        return ""
    fig, ax = plt.subplots(figsize=(6.2, 3.6))
    colours = plt.get_cmap("tab20")
    names = sorted({s.attribute for s in result.sweeps})
    points = [p for name in turns for p in turns[name]]
    if points:
        xs, ys = zip(*points, strict=True)
        ax.scatter(xs, ys, color="#555555", marker="x", s=24, label="dialogue turns showing one edit")
    for i, name in enumerate(names):
        colour = colours(i % 20)
        sweeps = [s for s in result.sweeps if s.attribute == name]
        _curves(ax, sweeps, lambda p: p.identity, colour, f"{name} (sweep)")
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
        ax.legend(fontsize=6, ncol=2, loc="lower right")
    return _svg(fig)


def response_vs_strength(result: RunResult) -> str:
    """Blendshape response (and emotion probability, dashed) against applied strength, per sweep."""
    sweeps = [s for s in result.sweeps if s.blendshapes or s.emotion_class]
    if not sweeps:
        return ""
    fig, ax = plt.subplots(figsize=(6.2, 3.6))
    colours = plt.get_cmap("tab10")
    twin = None
    groups: dict[str, list] = defaultdict(list)
    for sweep in sweeps:
        groups[sweep.attribute].append(sweep)
    for i, (name, group) in enumerate(groups.items()):
        colour = colours(i % 10)
        shapes = ", ".join(group[0].blendshapes)
        response = lambda p: None if math.isnan(p.response) else p.response  # noqa: E731
        _curves(ax, group, response, colour, f"{name}: mean Δ {shapes}")
        if group[0].emotion_class:
            twin = twin or ax.twinx()
            _curves(twin, group, lambda p: p.emotion, colour, f"{name}: p({group[0].emotion_class})", "--s")
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
