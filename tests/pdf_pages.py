"""Page faults of a typeset report, read from the PDF's text per page (pypdf) against the HTML it was set from.

    layout_problems("output/report.pdf", Path("output/report.html").read_text())   # [] when the pages are fine

A reader must never meet:
- a page that holds only a heading, or only a heading and its lead paragraphs (the title page of old);
- a page that ends with a heading, or with a heading and its lead paragraphs, while what they introduce (the
  figures, the table) stands on the next page;
- a table cut after its first row: its header, with at most one row, at the bottom of a page and the following
  rows on the next.

Texts are compared with every whitespace removed, so that line breaks, wrapped cells and the order in which
cells are extracted do not matter. A heading's lead is the run of <p> elements that directly follows it.
"""

from __future__ import annotations

import html as entities
import re
from pathlib import Path

from pypdf import PdfReader

RUNNING = re.compile(
    r"^(study report|page \d+ of \d+)$"
)  # the page header and footer of report.css
MARKERS = re.compile(
    "[•◦▪]"
)  # list bullets: pypdf extracts them after the page's text, and the HTML has none
LEAD_LIMIT = (
    600  # characters: a heading followed by more text than this is not stranded, whatever follows
)


def squash(markup: str) -> str:
    """Text without tags, entities decoded, every whitespace removed."""
    return re.sub(r"\s+", "", entities.unescape(re.sub(r"<[^>]+>", " ", markup)))


def page_texts(pdf: str | Path) -> list[str]:
    """Each page's text, squashed, without the running header and footer."""
    texts = []
    for page in PdfReader(pdf).pages:
        lines = [
            line for line in page.extract_text().splitlines() if not RUNNING.match(line.strip())
        ]
        texts.append(MARKERS.sub("", squash("\n".join(lines))))
    return texts


def _body(html: str) -> str:
    return re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S)


def headings(html: str) -> list[list[str]]:
    """Every heading (h1-h6) as [heading, lead paragraph, ...], squashed."""
    body = _body(html)
    found = []
    for match in re.finditer(r"<(h[1-6])\b[^>]*>(.*?)</\1>", body, re.S):
        parts = [squash(match.group(2))]
        rest = body[match.end() :]
        while paragraph := re.match(r"\s*<p\b[^>]*>(.*?)</p>", rest, re.S):
            if squash(paragraph.group(1)):
                parts.append(squash(paragraph.group(1)))
            rest = rest[paragraph.end() :]
        found.append(parts)
    return found


def tables(html: str) -> list[tuple[str, str, list[str]]]:
    """Every table with a header: (caption, header, [row, ...]), squashed."""
    found = []
    for table in re.findall(r"<table\b.*?</table>", _body(html), re.S):
        head, body = (
            re.search(r"<thead>(.*?)</thead>", table, re.S),
            re.search(r"<tbody>(.*?)</tbody>", table, re.S),
        )
        if head and body:
            caption = re.search(r"<caption>(.*?)</caption>", table, re.S)
            found.append(
                (
                    squash(caption.group(1)) if caption else "",
                    squash(head.group(1)),
                    [squash(row) for row in re.findall(r"<tr\b.*?</tr>", body.group(1), re.S)],
                )
            )
    return found


def layout_problems(pdf: str | Path, html: str) -> list[str]:
    """Every page fault of the PDF, one line each ('page 4: ends with the heading 3.2solver ...')."""
    pages = page_texts(pdf)
    problems = []
    for number, text in enumerate(pages, start=1):
        following = pages[number] if number < len(pages) else None
        for parts in headings(html):
            for k in range(1, len(parts) + 1 if parts[0] else 1):
                lead = "".join(parts[:k])
                if text == lead:
                    problems.append(
                        f"page {number}: holds only the heading {parts[0][:60]!r}"
                        + (" and its lead" if k > 1 else "")
                    )
                elif (
                    following is not None
                    and text.endswith(lead)
                    and len(lead) - len(parts[0]) <= LEAD_LIMIT
                ):
                    problems.append(
                        f"page {number}: ends with the heading {parts[0][:60]!r}"
                        + (" and its lead" if k > 1 else "")
                        + "; what it introduces is on the next page"
                    )
        if following is None:
            continue
        for caption, header, rows in tables(html):
            if len(rows) < 2:
                continue
            for cut in {caption + header, header, caption + header + rows[0], header + rows[0]}:
                if text.endswith(cut) and rows[1] in following:
                    problems.append(
                        f"page {number}: the table {(caption or header)[:60]!r} is cut after its "
                        + ("header" if cut.endswith(header) else "first row")
                    )
    return sorted(set(problems), key=lambda line: (int(line.split()[1].rstrip(":")), line))
