"""One self-contained HTML page for all the experiments: figures inline, numbers beside them."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from .base import Result


def _png(figure: Any) -> str:
    from ..plots import _pyplot

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render(results: list[Result], quick: bool) -> str:
    """The page (no external file, script or font: it opens offline)."""
    sections = []
    for result in results:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.4g}</td></tr>" for k, v in result.metrics.items())
        figures = "".join(f'<img alt="{html.escape(stem)}" src="data:image/png;base64,{_png(figure)}">'
                          for stem, figure in result.figures.items())
        status = "holds" if result.holds else "did not hold in this run"
        sections.append(
            f'<section id="{html.escape(result.experiment)}"><h2>{html.escape(result.experiment)}</h2>'
            f'<p class="verdict {"ok" if result.holds else "no"}"><b>{status}:</b> {html.escape(result.verdict)}</p>'
            f'<div class="pair"><div class="figures">{figures}</div><table>{rows}</table></div>'
            f'<p class="meta">{result.seconds:.1f} s, seed {result.seed}</p></section>')
    index = "".join(f'<li><a href="#{html.escape(r.experiment)}">{html.escape(r.experiment)}</a>: '
                    f'{"holds" if r.holds else "did not hold"}</li>' for r in results)
    style = ("body{font-family:sans-serif;max-width:1400px;margin:2em auto;color:#222}img{max-width:100%}"
             ".pair{display:flex;gap:2em;align-items:flex-start}.figures{flex:3}table{flex:1;border-collapse:collapse;"
             "font-size:13px}td{border-bottom:1px solid #ddd;padding:2px 6px}.verdict.ok{border-left:4px solid #2a2;"
             "padding-left:8px}.verdict.no{border-left:4px solid #c22;padding-left:8px}.meta{color:#777}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>convscope experiments</title>"
            f"<style>{style}</style></head><body><h1>convscope: the evidence that CNNs detect spatial patterns</h1>"
            f"<p>{'Quick' if quick else 'Full'} budget. Each claim from the lessons, with its numbers.</p>"
            f"<ul>{index}</ul>{''.join(sections)}</body></html>\n")
