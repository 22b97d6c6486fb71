"""Shared pieces of the notebook displays (``_repr_html_``) of convscope's result objects.

Jupyter shows an object by calling its ``_repr_html_`` (or ``_repr_png_``); ``repr`` and ``str``
stay as they are for the terminal. Everything here builds plain HTML strings: cells are escaped
unless wrapped in :class:`Html`, and pictures are embedded as base64 PNG ``data:`` URLs so a
saved notebook carries them. matplotlib is imported only inside the functions that draw, so
``import convscope`` stays fast. (The engine's :class:`~convscope.engine.arithmetic.Explanation`
writes its own HTML: the engine imports nothing from the rest of convscope.)
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

# Scoped to .convscope so a notebook's other outputs are untouched; repeated per output because
# each output may be viewed alone (nbviewer, an exported cell).
STYLE = """<style>
.convscope{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;line-height:1.4}
.convscope table.convscope-table{border-collapse:collapse;margin:.3em 0}
.convscope table.convscope-table th,.convscope table.convscope-table td{padding:.15em .6em;
  border-bottom:1px solid rgba(128,128,128,.3);text-align:left;vertical-align:top;white-space:nowrap}
.convscope table.convscope-table th{border-bottom:2px solid rgba(128,128,128,.6)}
.convscope table.convscope-table td.num{text-align:right;font-variant-numeric:tabular-nums}
.convscope .convscope-ok{color:#1b7f3b}
.convscope .convscope-bad{color:#b3261e}
.convscope .convscope-warning{background:#fff3cd;color:#7a4b00;border-left:3px solid #e0a800;padding:.1em .4em}
.convscope .convscope-muted{opacity:.7}
.convscope pre{margin:.2em 0;padding:.3em .5em;background:rgba(128,128,128,.1);white-space:pre-wrap}
.convscope img{max-width:100%}
</style>"""


class Html(str):
    """Markup that :func:`table` and :func:`cell` insert as it is (everything else is escaped)."""


def cell(value: Any) -> str:
    """``value`` as HTML: :class:`Html` as it is, anything else escaped."""
    return value if isinstance(value, Html) else escape(str(value))


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[str] = (),
          row_attributes: Sequence[str] | None = None) -> str:
    """An HTML table, one ``<tr>`` per row; the columns named in ``numeric`` are right-aligned.
    ``row_attributes``: extra attributes per row (e.g. an indent), already valid HTML."""
    right = set(numeric)
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for index, row in enumerate(rows):
        extra = f" {row_attributes[index]}" if row_attributes and row_attributes[index] else ""
        cells = "".join(f"<td class='num'>{cell(v)}</td>" if h in right else f"<td>{cell(v)}</td>"
                        for h, v in zip(header, row))
        body.append(f"<tr{extra}>{cells}</tr>")
    return (f"<table class='convscope-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def block(kind: str, body: str, styled: bool = True) -> str:
    """One output: the scoped style, then ``body`` in a ``div.convscope.convscope-<kind>``
    (``styled=False``: no style, for a block inside another that has it)."""
    return f"<div class='convscope convscope-{escape(kind)}'>{STYLE if styled else ''}{body}</div>"


def code(text: str) -> str:
    """A code block."""
    return f"<pre><code>{escape(text)}</code></pre>"


def details(summary: str, body: str, open_: bool = False) -> str:
    """A folded section: ``summary`` (escaped) shown, ``body`` (HTML) behind a click."""
    return f"<details{' open' if open_ else ''}><summary>{escape(summary)}</summary>{body}</details>"


def figure_png(figure: Any, dpi: int = 90) -> bytes:
    """A matplotlib figure as PNG bytes (cropped to what is drawn). The figure is left open: it
    belongs to the caller, who may still save it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def png_data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def img(png: bytes, alt: str) -> str:
    """An ``<img>`` holding ``png`` itself (no file beside the notebook)."""
    return f"<img src='{png_data_url(png)}' alt='{escape(alt, quote=True)}'>"


def figure_img(figure: Any, alt: str, dpi: int = 90) -> str:
    return img(figure_png(figure, dpi), alt)
