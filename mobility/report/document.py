"""One self-contained HTML page: inline CSS, figures as data URIs, no script and no network access.

A report is a list of :class:`Section` (title, intro paragraphs, figures, tables); :func:`render_html`
lays them out with a table of contents.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SUPPRESSED = "fewer than k users"

STYLE = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 64em;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #bbb; }
p.note { color: #555; font-size: .9em; }
p.headline { font-size: 1.2em; font-weight: bold; background: #f6f3ea; border-left: 4px solid #b5651d;
             padding: .5em .8em; }
details { margin: -.6em 0 1.2em; font-size: .9em; }
summary { cursor: pointer; color: #1a4f8b; }
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
class Table:
    """A table on the page: its caption, the rows (headers as people read them), how many rows to show
    before the rest is folded away (None: all), and decimals of its numbers."""

    caption: str
    frame: pd.DataFrame
    show: int | None = None
    decimals: int = 1


@dataclass
class Section:
    """A report section: a title, paragraphs (plain text), bullets, figures and tables."""

    title: str
    anchor: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)


def _cell(value, count: bool = False, decimals: int = 3) -> tuple[str, bool]:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "&ndash;", True
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), False
    if isinstance(value, (int, np.integer)) or (count and isinstance(value, (float, np.floating))):
        return f"{int(round(float(value))):,}", True
    if isinstance(value, (float, np.floating)):
        return f"{value:.{decimals}f}", True
    return html.escape(str(value)), False


def _rows_html(df: pd.DataFrame, decimals: int) -> str:
    head = "".join(f'<th class="text">{html.escape(str(c))}</th>' for c in df.columns)
    body = []
    flag = next((c for c in (SUPPRESSED, "suppressed") if c in df), None)
    suppressed = df[flag].astype(bool).to_numpy() if flag else np.zeros(len(df), bool)
    for i, row in enumerate(df.itertuples(index=False)):
        cells = []
        for column, value in zip(df.columns, row):
            text, numeric = _cell(value, count=str(column).startswith("n_") or column == "users", decimals=decimals)
            cells.append(f"<td>{text}</td>" if numeric else f'<td class="text">{text}</td>')
        cls = ' class="suppressed"' if suppressed[i] else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def table_html(df: pd.DataFrame, *, show: int | None = None, decimals: int = 3, max_rows: int = 500) -> str:
    """An HTML table of ``df``: the first ``show`` rows, the whole table (up to ``max_rows`` rows) a click away
    in a ``<details>`` block; numbers to ``decimals`` decimals (counts, ``n_*`` and ``users``, as integers),
    missing as a dash.

    Examples
    --------
    >>> table_html(pd.DataFrame({"area": ["42101"], "rate": [0.12345]}))
    '<table><thead><tr><th class="text">area</th><th class="text">rate</th></tr></thead><tbody><tr><td class="text">42101</td><td>0.123</td></tr></tbody></table>'
    >>> "<details><summary>all 3 rows</summary>" in table_html(pd.DataFrame({"a": [1, 2, 3]}), show=1)
    True
    """
    if show is None or len(df) <= show:
        rows, folded = df, None
    else:
        rows, folded = df.head(show), df
    out = _rows_html(rows.head(max_rows), decimals) if show != 0 else ""
    if folded is not None:
        out += (f"<details><summary>all {len(folded):,} rows</summary>{_rows_html(folded.head(max_rows), decimals)}"
                "</details>")
    if len(df) > max_rows:
        out += f'<p class="note">{len(df) - max_rows:,} more rows in the CSV file.</p>'
    return out


def render_html(title: str, subtitle: str, sections: list[Section], *, headline: str = "") -> str:
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
             f"<h1>{html.escape(title)}</h1>",
             f'<p class="headline">{html.escape(headline)}</p>' if headline else "",
             f"<p class=\"note\">{html.escape(subtitle)}</p>",
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
        for t in s.tables:
            parts.append(f'<p class="note">{html.escape(t.caption)}</p>'
                         f"{table_html(t.frame, show=t.show, decimals=t.decimals)}")
    parts.append("</body></html>\n")
    return "\n".join(parts)
