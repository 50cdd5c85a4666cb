# ruff: noqa: E501  (HTML and CSS templates: lines follow the markup, not the code)
"""The self-contained HTML report of a run: verdict, per-attribute table, plots, every turn with pictures.

Everything is inside the one file (thumbnails as base64 JPEG, plots as inline SVG); the full-resolution
photos every figure was computed from are saved next to it under ``images/`` and linked from each turn.
"""

from __future__ import annotations

import html
import statistics
from collections import defaultdict
from pathlib import Path

from editor import vocabulary as vocab
from eval import report_plots
from eval.expectations import FAIL, NA, PASS, Check
from eval.measure import EDIT_REGION_SCALE, SCORERS
from eval.runner import DIFF_GAIN, RunResult, SweepRecord, TurnRecord, family_of, slug

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:18px 24px 60px}
h1{font-size:24px;margin:4px 0}h2{font-size:19px;margin:34px 0 8px;border-bottom:2px solid #ddd;padding-bottom:4px}
h3{font-size:16px;margin:22px 0 6px}h4{margin:10px 0 4px;font-size:14px}
.meta{color:#555;font-size:13px}.banner{padding:14px 18px;border-radius:8px;margin:14px 0;font-size:17px;color:#fff}
.banner.ok{background:#2e7d32}.banner.bad{background:#c62828}.banner small{display:block;font-size:13px;opacity:.92}
.howto{background:#fff;border:1px solid #ddd;border-radius:8px;padding:8px 16px;font-size:13px}
table{border-collapse:collapse;background:#fff;font-size:13px}td,th{border:1px solid #e0e0e0;padding:4px 7px;vertical-align:top}
th{background:#f0f0f0;text-align:left}.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#2e7d32}.fail{color:#c62828}.na{color:#777}
td.pass,td.fail,td.na{font-weight:600;white-space:nowrap}
.bar{display:inline-block;height:9px;background:#c62828;width:80px;vertical-align:middle;margin-right:6px}
.bar i{display:block;height:9px;background:#2e7d32}
.turn{background:#fff;border:1px solid #ddd;border-left:6px solid #2e7d32;border-radius:6px;margin:10px 0;padding:8px 12px}
.turn.failed{border-left-color:#c62828}.say{font-weight:600}.reply{color:#444;font-size:13px;margin:2px 0 6px}
.pics{display:flex;gap:8px;flex-wrap:wrap;align-items:flex-start}.pics figure{margin:0;font-size:11px;color:#555;text-align:center}
.pics img{display:block;border:1px solid #ccc;max-width:256px}.pics img.diff{max-width:190px}.steps img{max-width:110px}
.records{font-family:ui-monospace,Menlo,monospace;font-size:12px;color:#333}
.checks td{font-size:12px}.checks td.sc{color:#666;font-size:11px}
.plot{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px;margin:6px 0;display:inline-block}
.plot figcaption{font-size:12px;color:#555;max-width:600px}.grid2{display:flex;flex-wrap:wrap;gap:12px}
.thumbcell img{width:52px;display:block}details summary{cursor:pointer;color:#1565c0}
.sweep img{max-width:150px}td .pics img{max-width:120px}code{background:#eee;padding:0 3px;border-radius:3px}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _img(b64: str, alt: str, cls: str = "") -> str:
    return f'<img src="data:image/jpeg;base64,{b64}" alt="{_e(alt)}"{f" class={cls!r}" if cls else ""}>'


def _status(check: Check) -> str:
    css = {PASS: "pass", FAIL: "fail", NA: "na"}[check.status]
    mark = {PASS: "✔ pass", FAIL: "✘ FAIL", NA: "– n/a"}[check.status]
    return f'<td class="{css}">{mark}</td>'


def _records(records: list[dict]) -> str:
    if not records:
        return "none"
    return ", ".join(
        f"{r['attribute']} {r['strength']:+.2f}" + (f" {r['value']}" if r.get("value") else "")
        for r in records
    )


def _fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _anchor(turn: TurnRecord) -> str:
    return f"t-{slug(turn.suite)}-{slug(turn.image)}-{slug(turn.dialogue)}-{turn.index}"


# ---------------------------------------------------------------------- sections


def _header(result: RunResult) -> str:
    counts = result.counts()
    verdict = "ok" if result.passed else "bad"
    title = "Every expectation held" if result.passed else f"{counts['checks_failed']} expectations failed"
    units = counts["units"]
    scorer = f"{result.identity_scorer} (threshold {result.identity_threshold:.3f}, " + (
        "calibrated on real photos)" if result.identity_calibrated else "UNCALIBRATED)"
    )
    env = result.environment
    problems = "".join(f"<li class=fail>{_e(p)}</li>" for p in result.problems)
    about = "".join(
        f"<p><b>{_e(name)}</b>: {_e(text)}</p>" for name, text in result.descriptions.items() if text
    )
    return f"""
<h1>facechat evaluation: {_e(", ".join(result.suites))}</h1>
<div class=meta>{_e(result.started)} · {result.seconds:.0f} s · commit {_e(env.get("commit", "?"))} ·
{_e(env.get("cpus", "?"))} CPUs · parser: {_e(result.parser)} · identity scorer: {_e(scorer)} ·
suite files: {_e(", ".join(result.suite_files))}</div>
<div class="banner {verdict}">{"PASSED" if result.passed else "FAILED"}: {_e(title)}
<small>{counts["units_passed"]} of {units} turns / sweeps / benchmarks met every expectation ·
{counts["checks_passed"]} of {counts["checks"]} checks passed, {counts["checks_failed"]} failed,
{counts["checks_not_measurable"]} could not be measured (n/a)</small></div>
{f"<ul>{problems}</ul>" if problems else ""}{about}
<div class=howto><b>How to read this report.</b>
<ul>
<li>A suite is a script of conversations. Each <b>turn</b> is what a person typed, with expectations: what the
parser should understand, whether the photo should change, which face movements should appear
(FaceLandmarker blendshapes, 0..1 scores, measured on the original and on the edit), what an emotion
classifier should see, that the person stays recognisable (identity similarity above the calibrated
same-person threshold), that nothing outside the face moves, and a time budget.</li>
<li>A turn <span class=pass>passes</span> only when every one of its checks passes; <span class=na>n/a</span>
means the check could not be measured (e.g. identity on an unedited photo) and counts neither way.</li>
<li>Start with <b>How well each attribute works</b>, then the plots, then the list of failures; every failure
links to its turn, which shows the photo before and after, a difference map, the intermediate steps,
and each check with the expected and measured values and the scorer that measured it.</li>
<li>Every number is computed from the pixels of the photos shown (full resolution under <code>images/</code>
next to this file, linked from each turn); nothing is taken from the editor's own bookkeeping.</li>
</ul></div>"""


def _attribute_table(result: RunResult) -> str:
    rows = report_plots.attribute_rows(result)
    if not rows:
        return ""
    by_attr: dict[str, list[TurnRecord]] = defaultdict(list)
    for turn in result.turns:
        for name in turn.attributes:
            by_attr[name].append(turn)
    sweeps: dict[str, list[SweepRecord]] = defaultdict(list)
    for sweep in result.sweeps:
        sweeps[sweep.attribute].append(sweep)
    order = {a.name: i for i, a in enumerate(vocab.ATTRIBUTES)}
    names = sorted(rows, key=lambda n: (family_of(n) != "expression", family_of(n), order.get(n, 99), n))
    body = []
    for name in names:
        ok, total = rows[name]
        turns = by_attr.get(name, [])
        checks = [c for t in turns for c in t.checks] + [c for s in sweeps.get(name, []) for c in s.checks]
        failing = defaultdict(int)
        for c in checks:
            if c.status == FAIL:
                failing[c.kind] += 1
        values = defaultdict(list)
        for c in checks:
            if c.value is not None and c.status != NA:
                values[c.kind].append(c.value)
        example = next((t for t in turns if t.changed), turns[0] if turns else None)
        thumb = _img(example.thumbs["after"], name) if example is not None and example.thumbs else ""
        link = f'<a href="#{_anchor(example)}">{_e(name)}</a>' if example is not None else _e(name)
        rate = ok / total if total else 0
        med = {k: statistics.median(v) for k, v in values.items()}
        body.append(
            f"<tr><td>{link}</td><td>{_e(family_of(name))}</td>"
            f'<td class=num><span class=bar><i style="width:{rate * 100:.0f}%"></i></span>{ok}/{total}</td>'
            f"<td>{_e(', '.join(f'{k} ×{n}' for k, n in failing.items()) or '—')}</td>"
            f"<td class=num>{_fmt(med.get('identity'))}</td><td class=num>{_fmt(med.get('blendshapes'))}</td>"
            f"<td class=num>{_fmt(med.get('emotion'))}</td><td class=num>{_fmt(med.get('reference'), 4)}</td>"
            f"<td class=num>{_fmt(med.get('latency'), 0)}</td><td class=thumbcell>{thumb}</td></tr>"
        )
    return f"""
<h2 id=attributes>How well each attribute works</h2>
<p class=meta>One row per thing asked for (commands such as <i>more</i> or <i>undo</i> get their own rows).
“Passed” counts turns (and strength sweeps) that met every expectation. Medians over the attribute's turns:
identity = similarity to the original ({_e(result.identity_scorer)}; same person at ≥ {result.identity_threshold:.3f});
blendshape Δ = change of the expected face movement in the expected direction (FaceLandmarker; the suite's margin
is usually 0.05); emotion Δ = change of the expected class's probability (fer mini-Xception); reference Δ = landmark
distance to a real photo of the expression, edit minus unedited (negative = the edit moved toward the real
expression); latency of <code>Assistant.run</code>.</p>
<table><tr><th>attribute</th><th>family</th><th>passed</th><th>failing checks</th><th>identity</th>
<th>blendshape Δ</th><th>emotion Δ</th><th>reference Δ</th><th>ms</th><th>example</th></tr>
{"".join(body)}</table>"""


def _plots(result: RunResult) -> str:
    figures = [
        (
            report_plots.pass_rates(result),
            "Per-attribute pass rate: share of turns meeting every expectation (green all, red none). Scorers: all "
            "of the turn's checks (parser, FaceLandmarker, fer classifier, identity scorer, pixel locality, clock).",
        ),
        (
            report_plots.identity_vs_strength(result),
            f"Identity vs strength. Scorer: {result.identity_scorer} embeddings, cosine similarity of the edited face to "
            "the original; lines are strength sweeps, crosses are dialogue turns showing a single edit (per attribute: see the table above).",
        ),
        (
            report_plots.response_vs_strength(result),
            f"Expression response vs strength (sweeps). Solid: mean change of the listed blendshapes vs the original "
            f"({SCORERS['blendshapes']}); dashed: probability of the emotion class ({SCORERS['emotion']}).",
        ),
        (report_plots.latency_histogram(result), f"Latency per edit turn. Scorer: {SCORERS['latency']}."),
    ]
    shown = [
        f"<figure class=plot>{svg}<figcaption>{_e(caption)}</figcaption></figure>"
        for svg, caption in figures
        if svg
    ]
    return f"<h2 id=plots>Plots</h2><div class=grid2>{''.join(shown)}</div>" if shown else ""


def _failures(result: RunResult) -> str:
    labelled = [
        *(
            (
                t.attributes[0],
                f'<a href="#{_anchor(t)}">{_e(t.image)} · {_e(t.dialogue)} · turn {t.index}</a> “{_e(t.say)}”',
                t,
            )
            for t in result.turns
        ),
        *((s.attribute, f"sweep {_e(s.attribute)} on {_e(s.image)}", s) for s in result.sweeps),
        *(("parsing", f"parsing {_e(p.file)}", p) for p in result.parsing),
    ]
    groups: dict[str, list[str]] = defaultdict(list)
    for group, label, record in labelled:
        for c in record.checks:
            if c.status == FAIL:
                groups[group].append(
                    f"<li>{label}: <b>{_e(c.kind)}</b> expected {_e(c.expected)}; measured {_e(c.measured)}</li>"
                )
    total = sum(len(items) for items in groups.values())
    if not total:
        return "<h2 id=failures>Failures</h2><p class=pass>None.</p>"
    opened = " open" if total <= 20 else ""
    blocks = "".join(
        f"<details{opened}><summary><b>{_e(group)}</b>: {len(items)} failed check{'s' * (len(items) != 1)}</summary>"
        f"<ul>{''.join(items)}</ul></details>"
        for group, items in groups.items()
    )
    return f"<h2 id=failures>Failures ({total})</h2>{blocks}"


def _references(result: RunResult) -> str:
    turns = [
        t
        for t in result.turns
        if "reference" in t.files and t.measure.get("reference_landmarks_original") is not None
    ]
    if not turns:
        return ""
    rows = []
    for t in turns:
        m, th = t.measure, t.thumbs
        delta = (
            None
            if m["reference_landmarks_edit"] is None
            else m["reference_landmarks_edit"] - m["reference_landmarks_original"]
        )
        check = next(c for c in t.checks if c.kind == "reference")
        pics = "".join(
            f'<figure><a href="{_e(t.files[key])}">{_img(th[thumb], label)}</a>{label}</figure>'
            for key, thumb, label in (
                ("original", "original", "unedited"),
                ("after", "after", "edit"),
                ("reference", "reference", "real photo"),
            )
            if thumb in th
        )
        rows.append(
            f"<tr>{_status(check)}<td><a href='#{_anchor(t)}'>{_e(t.image)}</a><br>“{_e(t.say)}”</td>"
            f"<td class=num>{_fmt(m['reference_landmarks_original'], 4)}</td><td class=num>{_fmt(m['reference_landmarks_edit'], 4)}</td>"
            f"<td class=num>{_fmt(delta, 4)}</td><td class=num>{_fmt(m.get('reference_lpips_original'))}</td>"
            f"<td class=num>{_fmt(m.get('reference_lpips_edit'))}</td><td><div class=pics>{pics}</div></td></tr>"
        )
    originals = [t.measure["reference_landmarks_original"] for t in turns]
    edits = [
        t.measure["reference_landmarks_edit"]
        for t in turns
        if t.measure["reference_landmarks_edit"] is not None
    ]
    closer = sum(
        1
        for t in turns
        if t.measure["reference_landmarks_edit"] is not None
        and t.measure["reference_landmarks_edit"] < t.measure["reference_landmarks_original"]
    )
    return f"""<h2 id=references>Against real photos of the expression</h2>
<p class=meta>The edit compared with a real photo of the same person showing the expression asked for. Landmark
distance: mean over FaceLandmarker's 478 landmarks after aligning the real photo on rigid points (forehead, nose,
inner eye corners), divided by the inter-iris distance (lower = closer). LPIPS-VGG at 256 px (lower = more alike;
it also sees lighting and head-pose differences between the two photos). Edit closer than the unedited photo for
<b>{closer} of {len(turns)}</b> people; mean distance unedited {statistics.mean(originals):.4f}, edit
{(statistics.mean(edits) if edits else float("nan")):.4f}.</p>
<table><tr><th>status</th><th>photo</th><th>landmarks: unedited</th><th>edit</th><th>Δ</th><th>LPIPS: unedited</th><th>edit</th>
<th>faces (unedited · edit · real)</th></tr>{"".join(rows)}</table>"""


def _parsing(result: RunResult) -> str:
    if not result.parsing:
        return ""
    rows = []
    for r in result.parsing:
        slots = ", ".join(
            f"{k} {r.slot_accuracy[k]:.1%} ({c}/{t})" for k, (c, t) in r.slot_counts.items() if t
        )
        fails = "".join(f"<li>{_e(f)}</li>" for f in r.failures)
        detail = (
            f"<details><summary>{len(r.failures)} wrong turns</summary><ul>{fails}</ul></details>"
            if fails
            else "—"
        )
        rows.append(
            f"<tr>{_status(r.checks[0])}<td>{_e(r.file)}</td><td>{_e(r.kind)}</td><td class=num>{r.turns}</td>"
            f"<td class=num>{r.whole_turn_accuracy:.1%}</td><td>{_e(r.checks[0].expected)}</td><td>{_e(slots)}</td>"
            f"<td>{detail}</td></tr>"
        )
    return f"""<h2 id=parsing>Parsing benchmarks</h2>
<p class=meta>Requests benchmark files of eval/parsing/, scored by eval.metrics.parsing (slot accuracy: attribute,
strength band, sign, colour value, command; a turn is right when every slot is). Parser: {_e(result.parser)}.</p>
<table><tr><th>status</th><th>file</th><th>kind</th><th>turns</th><th>whole-turn</th><th>gate</th><th>slots</th>
<th>failures</th></tr>{"".join(rows)}</table>"""


def _turn(turn: TurnRecord) -> str:
    thumbs = turn.thumbs or {}
    pics = []
    if thumbs:
        pics.append(
            f'<figure><a href="{_e(turn.files["before"])}">{_img(thumbs["before"], "before")}</a>before this turn (face)</figure>'
        )
        pics.append(
            f'<figure><a href="{_e(turn.files["after"])}">{_img(thumbs["after"], "after")}</a>after (face)</figure>'
        )
        pics.append(
            f"<figure>{_img(thumbs['diff'], 'difference', 'diff')}|after − original| ×{DIFF_GAIN}; cyan: edit region</figure>"
        )
        if thumbs.get("frames"):
            steps = "".join(_img(f, f"step {i + 1}") for i, f in enumerate(thumbs["frames"]))
            pics.append(
                f"<figure class=steps><div class=pics>{steps}</div>intermediate steps 1..{len(thumbs['frames'])}</figure>"
            )
    checks = "".join(
        f"<tr>{_status(c)}<td>{_e(c.kind)}</td><td>{_e(c.expected)}</td><td>{_e(c.measured)}</td><td class=sc>{_e(c.scorer)}</td></tr>"
        for c in turn.checks
    )
    m = turn.measure
    figures = (
        f"identity {_fmt(m.get('identity'))} ({_e(m.get('identity_scorer'))}) · changed pixels outside the face "
        f"{m.get('changed_fraction', 0):.2%} · LPIPS outside {_fmt(m.get('lpips_outside'), 4)} · PSNR face region "
        f"{_fmt(m.get('psnr_db'), 1)} dB · SSIM face region {_fmt(m.get('ssim'))}"
        + (f" · latency {turn.latency_ms:.0f} ms" if turn.latency_ms is not None else "")
    )
    command = turn.command["name"] if turn.command else "none"
    return f"""<div class="turn{"" if turn.passed else " failed"}" id="{_anchor(turn)}">
<div class=say>{turn.index}. “{_e(turn.say)}” <span class=meta>(suite line {turn.line})</span>
<span class="{"pass" if turn.passed else "fail"}">{"passed" if turn.passed else "FAILED"}</span></div>
<div class=reply>Assistant: {_e(turn.reply)}</div>
<div class=records>parsed: {_e(_records(turn.parsed))} · command: {_e(command)} · state now: {_e(_records(turn.state))}
· shown as applied: {_e(_records(turn.shown))}</div>
<div class=pics>{"".join(pics)}</div>
<div class=meta>{figures}</div>
<table class=checks><tr><th>status</th><th>check</th><th>expected</th><th>measured</th><th>scorer</th></tr>{checks}</table>
</div>"""


def _dialogues(result: RunResult) -> str:
    if not result.turns:
        return ""
    parts = ["<h2 id=turns>Every turn</h2>"]
    current = None
    for turn in result.turns:
        key = (turn.suite, turn.image, turn.dialogue)
        if key != current:
            if current is not None:
                parts.append("</section>")
            current = key
            group = [t for t in result.turns if (t.suite, t.image, t.dialogue) == key]
            ok = sum(t.passed for t in group)
            parts.append(
                f"<section><h3>{_e(turn.dialogue)} <span class=meta>· photo {_e(turn.image)} · suite {_e(turn.suite)} · "
                f"<span class={'pass' if ok == len(group) else 'fail'}>{ok}/{len(group)} turns passed</span></span></h3>"
            )
        parts.append(_turn(turn))
    parts.append("</section>")
    return "".join(parts)


def _sweeps(result: RunResult) -> str:
    if not result.sweeps:
        return ""
    parts = [
        "<h2 id=sweeps>Strength sweeps</h2><p class=meta>One attribute rendered by <code>Editor.render</code> at "
        "several strengths on the same photo (no parsing). Response = mean change of the listed blendshapes vs the "
        f"original ({_e(SCORERS['blendshapes'])}).</p>"
    ]
    for sweep in result.sweeps:
        cells = "".join(
            f'<figure><a href="{_e(p.file)}">{_img(p.thumb, f"{sweep.attribute} {p.strength:+.2f}")}</a>'
            f"strength {p.strength:+.2f} (applied {p.applied:+.2f})<br>identity {_fmt(p.identity)} · response "
            f"{_fmt(None if p.response != p.response else p.response)}"
            + (f"<br>p({_e(sweep.emotion_class)}) {_fmt(p.emotion, 2)}" if sweep.emotion_class else "")
            + "</figure>"
            for p in sweep.points
        )
        checks = "".join(
            f"<tr>{_status(c)}<td>{_e(c.kind)}</td><td>{_e(c.expected)}</td><td>{_e(c.measured)}</td><td class=sc>{_e(c.scorer)}</td></tr>"
            for c in sweep.checks
        )
        parts.append(
            f"<h3>{_e(sweep.attribute)} <span class=meta>· photo {_e(sweep.image)} · blendshapes "
            f"{_e(', '.join(sweep.blendshapes) or '—')} · suite line {sweep.line}</span></h3>"
            f"<div class='pics sweep'>{cells}</div><table class=checks><tr><th>status</th><th>check</th><th>expected</th>"
            f"<th>measured</th><th>scorer</th></tr>{checks}</table>"
        )
    return "".join(parts)


def _method(result: RunResult) -> str:
    scorers = "".join(f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in SCORERS.items())
    return f"""<h2 id=method>How the figures are computed</h2>
<ul class=meta>{scorers}
<li><b>identity</b>: {_e(result.identity_scorer)} embedding of the face aligned on five key points, cosine similarity of
the edit to the original; the same-person threshold {result.identity_threshold:.3f} comes from real photos of the same
people neutral vs smiling against different people (eval/calibrate_identity.py).</li>
<li><b>locality</b>: pixels outside the face oval scaled by {EDIT_REGION_SCALE} (the edge of the warp's mask) must not
change; “changed” = a channel moved by more than 8 levels; LPIPS outside = LPIPS of the original against the edit
with the original face pasted back (0 when no background pixel moved).</li>
<li><b>blendshapes</b>: FaceLandmarker run on the original (or previous) photo and on the edit; it cannot see
cheekSquint, noseSneer, mouthLowerDown or eyeWide, so suites may not expect those (EXPRESSION-NOTES.md).</li>
<li><b>reference</b>: landmark distance to a real photo of the same person with the expression, after aligning on rigid
points, in inter-iris units; compared with the unedited photo's distance.</li>
<li>Recompute everything from the saved photos: <code>python -m eval rescore OUT_FOLDER</code> re-measures every
photo under images/ and compares with metrics.json.</li></ul>"""


def render_report(result: RunResult) -> str:
    """The report as one HTML string."""
    body = "".join(
        [
            _header(result),
            _attribute_table(result),
            _plots(result),
            _failures(result),
            _references(result),
            _parsing(result),
            _sweeps(result),
            _dialogues(result),
            _method(result),
        ]
    )
    title = f"facechat evaluation: {', '.join(result.suites)} ({'passed' if result.passed else 'FAILED'})"
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def write_report(result: RunResult, path: Path) -> Path:
    """Write the report to ``path`` (its folder should hold the run's images/)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(result), encoding="utf-8")
    return path
