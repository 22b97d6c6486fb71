"""One self-contained HTML page for all the experiments, rewritten as each one finishes.

The figures come from the PNG files each experiment wrote into its own folder, inlined as data
URLs, so the page opens offline and a partial report (some experiments still running) is
already readable.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .base import Result, lookup
from .stats import TEST

STYLE = ("body{font-family:sans-serif;max-width:1400px;margin:1em auto;padding:0 1em;color:#222;line-height:1.4}"
         "img{max-width:100%;height:auto}table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid "
         "#ddd;padding:3px 6px;text-align:left;vertical-align:top}.pair{display:flex;flex-wrap:wrap;gap:1.5em;"
         "align-items:flex-start}.figures{flex:3 1 600px;min-width:0}.numbers{flex:1 1 280px;overflow-x:auto}"
         ".ok{color:#176b17}.no{color:#b01c1c}.wait{color:#777}.verdict{border-left:4px solid #999;padding-left:8px}"
         ".verdict.ok{border-color:#2a2}.verdict.no{border-color:#c22}.claims{overflow-x:auto}.meta{color:#666}")


def _status(result: Result | None) -> tuple[str, str]:
    if result is None:
        return "wait", "running or queued"
    return ("ok", "holds") if result.holds else ("no", "does not hold")


def _figures(result: Result, folder: Path) -> str:
    images = []
    for stem in result.to_dict()["figures"]:
        path = folder / result.experiment / stem
        if path.is_file():
            encoded = base64.b64encode(path.read_bytes()).decode("ascii")
            images.append(f'<img alt="{html.escape(stem)}" src="data:image/png;base64,{encoded}">')
    return "".join(images)


def _claims_table(names: list[str], done: dict[str, Result]) -> str:
    rows = []
    for name in names:
        result = done.get(name)
        css, word = _status(result)
        link = f'<a href="#{html.escape(name)}">{html.escape(name)}</a>'
        if result is None:
            rows.append(f"<tr><td>{html.escape(lookup(name).claim)}</td><td>{link}</td><td class='wait'>-</td>"
                        f"<td class='wait'>{word}</td></tr>")
            continue
        tests = "<br>".join(f"<span class='{'ok' if c.holds else 'no'}'>{html.escape(c.line())}</span>"
                            for c in result.checks)
        rows.append(f"<tr><td>{html.escape(result.claim)}</td><td>{link}</td><td>{tests}</td>"
                    f"<td class='{css}'><b>{word}</b></td></tr>")
    return ("<div class='claims'><table><tr><th>claim</th><th>experiment</th><th>what was tested: mean [95% interval] "
            "over the seeds, against its threshold</th><th>verdict</th></tr>" + "".join(rows) + "</table></div>")


def _section(name: str, result: Result | None, folder: Path) -> str:
    anchor = html.escape(name)
    if result is None:
        return f"<section id='{anchor}'><h2>{anchor}</h2><p class='wait'>Not finished yet.</p></section>"
    css, word = _status(result)
    metrics = "".join(f"<tr><td>{html.escape(k)}</td><td>{s.text(False)}</td></tr>" for k, s in result.stats.items())
    details = "".join(f"<p class='meta'>{html.escape(line)}</p>" for line in result.details)
    return (f"<section id='{anchor}'><h2>{anchor}</h2>"
            f"<p class='verdict {css}'><b>{word}:</b> {html.escape(result.verdict)}</p>{details}"
            f"<div class='pair'><div class='figures'>{_figures(result, folder)}</div>"
            f"<div class='numbers'><table><tr><th>metric</th><th>mean [95% interval]</th></tr>{metrics}</table></div>"
            f"</div><p class='meta'>{len(result.runs)} seed(s): {', '.join(map(str, result.seeds))}; "
            f"{result.seconds:.1f} s of computing</p></section>")


def render(names: list[str], done: dict[str, Result], folder: str | Path, quick: bool, seeds: list[int],
           elapsed: float, workers: int) -> str:
    """The page for experiments ``names``; those in ``done`` are finished, the rest are shown as pending."""
    folder = Path(folder)
    finished = [done[n] for n in names if n in done]
    held = sum(r.holds for r in finished)
    state = ("all finished" if len(finished) == len(names) else
             f"{len(finished)} of {len(names)} finished so far (this page is rewritten as each one finishes)")
    summary = (f"{'Quick' if quick else 'Full'} budget, {len(seeds)} seed(s) ({', '.join(map(str, seeds))}), "
               f"{workers} worker process(es); {state}: {held} of {len(finished)} claims hold; "
               f"{elapsed:.0f} s of wall time, {sum(r.seconds for r in finished):.0f} s of computing. Test: {TEST}; "
               "a claim holds only when its interval lies on the claimed side of the threshold.")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>convscope experiments</title>"
            f"<style>{STYLE}</style></head><body><h1>convscope: the evidence that CNNs detect spatial patterns</h1>"
            f"<p>{html.escape(summary)}</p>{_claims_table(names, done)}"
            + "".join(_section(n, done.get(n), folder) for n in names) + "</body></html>\n")
