"""One self-contained HTML page: inline CSS, figures as data URIs, no script and no network access.

A report is a list of :class:`Section` (title, intro paragraphs, figures, tables); :func:`render_html`
lays them out with a table of contents.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

STYLE = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 64em;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #bbb; }
p.note { color: #555; font-size: .9em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85em; color: #444; }
table { border-collapse: collapse; font-size: .82em; margin: .6em 0 1.2em; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: right; }
th { background: #f1f1f1; }
td.text, th.text { text-align: left; }
tr.suppressed td { color: #999; }
nav ol { columns: 2; font-size: .9em; }
@media print { figure, table { page-break-inside: avoid; } }
"""


@dataclass
class Figure:
    """An embedded image (``data:`` URI), its caption and the CSV file holding its numbers."""

    uri: str
    caption: str
    table_file: str = ""


@dataclass
class Section:
    """A report section: a title, paragraphs (plain text), figures and tables (``caption -> DataFrame``)."""

    title: str
    anchor: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)


def _cell(value, count: bool = False) -> tuple[str, bool]:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "&ndash;", True
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), False
    if isinstance(value, (int, np.integer)) or (count and isinstance(value, (float, np.floating))):
        return f"{int(round(float(value))):,}", True
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}", True
    return html.escape(str(value)), False


def table_html(df: pd.DataFrame, *, max_rows: int = 60) -> str:
    """An HTML table of ``df`` (first ``max_rows`` rows); numbers to 3 decimals (counts, ``n_*`` columns, as
    integers), missing as a dash.

    Examples
    --------
    >>> table_html(pd.DataFrame({"area": ["42101"], "rate": [0.12345]}))
    '<table><thead><tr><th class="text">area</th><th class="text">rate</th></tr></thead><tbody><tr><td class="text">42101</td><td>0.123</td></tr></tbody></table>'
    """
    head = "".join(f'<th class="text">{html.escape(str(c))}</th>' for c in df.columns)
    body = []
    suppressed = df["suppressed"].astype(bool).to_numpy() if "suppressed" in df else np.zeros(len(df), bool)
    for i, row in enumerate(df.head(max_rows).itertuples(index=False)):
        cells = []
        for column, value in zip(df.columns, row):
            text, numeric = _cell(value, count=str(column).startswith("n_"))
            cells.append(f"<td>{text}</td>" if numeric else f'<td class="text">{text}</td>')
        cls = ' class="suppressed"' if suppressed[i] else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    more = f'<p class="note">{len(df) - max_rows} more rows in the CSV file.</p>' if len(df) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def render_html(title: str, subtitle: str, sections: list[Section]) -> str:
    """The whole page.

    Examples
    --------
    >>> page = render_html("T", "sub", [Section("One", "one", paragraphs=["text"])])
    >>> page.startswith("<!DOCTYPE html>"), "<h2 id=\\"one\\">One</h2>" in page
    (True, True)
    """
    toc = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a></li>' for s in sections)
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p class=\"note\">{html.escape(subtitle)}</p>",
             f"<nav><ol>{toc}</ol></nav>"]
    for s in sections:
        parts.append(f'<h2 id="{s.anchor}">{html.escape(s.title)}</h2>')
        parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        if s.bullets:
            parts.append("<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in s.bullets) + "</ul>")
        for f in s.figures:
            source = f" Numbers: <code>{html.escape(f.table_file)}</code>." if f.table_file else ""
            parts.append(f'<figure><img src="{f.uri}" alt="{html.escape(f.caption)}">'
                         f"<figcaption>{html.escape(f.caption)}{source}</figcaption></figure>")
        for caption, df in s.tables:
            parts.append(f'<p class="note">{html.escape(caption)}</p>{table_html(df)}')
    parts.append("</body></html>\n")
    return "\n".join(parts)
