"""The operators' report as one self-contained HTML page: plots drawn on the server as inline
SVG, styles inline, no script, font, image or anything else fetched from anywhere, so opening it
sends nothing to another host. Every piece of text from the stores goes through html.escape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from urllib.parse import quote, urlencode

from common.report import (
    LOW_CONFIDENCE,
    Conversation,
    Report,
    Share,
    WordingGroup,
)

SHOWN_GROUPS = 100  # of each "fell short" list: the largest, which are worth an entry first

# What the browser may load for these pages: nothing but the page itself and its inline styles.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}

STYLE = "".join(
    [
        "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;",
        "padding:1em 2em;color:#1d2a33}",
        "h1{font-size:1.5em;margin-bottom:.2em}",
        "h2{margin-top:1.8em;border-bottom:1px solid #ccd;padding-bottom:.2em}",
        ".muted{color:#5b6770}",
        ".figures{display:flex;gap:1.5em;flex-wrap:wrap}",
        ".figure{background:#f2f5f7;border-radius:6px;padding:.5em 1em}",
        ".figure b{display:block;font-size:1.5em}",
        "table{border-collapse:collapse;margin:.5em 0}",
        "td,th{padding:.25em .6em;text-align:left;vertical-align:top;",
        "border-bottom:1px solid #e3e7ea}",
        "th{background:#f2f5f7}",
        "td.n{text-align:right;font-variant-numeric:tabular-nums}",
        "svg{display:block;margin:.5em 0}",
        "svg text{font:12px system-ui,sans-serif;fill:#1d2a33}",
        ".bar{fill:#2f6f8f}",
        ".bar2{fill:#d08a2c}",
        ".line{fill:none;stroke:#d08a2c;stroke-width:2}",
        ".line2{fill:none;stroke:#2f6f8f;stroke-width:2}",
        ".axis{stroke:#99a3aa}",
        "details{margin:.5em 0}",
        "code{background:#f2f5f7;padding:0 .3em}",
        "ul.examples{margin:.2em 0;padding-left:1.2em}",
        ".user{background:#eef4f8}",
        ".bot{color:#33424c}",
    ]
)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<meta name=referrer content=no-referrer><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M")


# --- plots -------------------------------------------------------------------------------------


def horizontal_bars(rows: list[Share], label: Callable[[Share], str], title: str) -> str:
    """One bar per row, its length the row's share, the label and count beside it."""
    if not rows:
        return "<p class=muted>None in this period.</p>"
    bar_space, left, height = 420, 290, 22
    svg_height = height * len(rows) + 6
    parts = [
        f'<svg role=img aria-label="{escape(title)}" width="{left + bar_space + 140}" '
        f'height="{svg_height}" viewBox="0 0 {left + bar_space + 140} {svg_height}">'
        f"<title>{escape(title)}</title>"
    ]
    widest = max(row.share for row in rows) or 1
    for index, row in enumerate(rows):
        y = index * height + 3
        width = max(1.0, bar_space * row.share / widest) if row.count else 0
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(row.name)}</text>'
            f'<rect class=bar x="{left}" y="{y + 2}" width="{width:.1f}" height="{height - 6}"/>'
            f'<text x="{left + width + 6:.1f}" y="{y + 15}">{escape(label(row))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def day_plot(
    days: list[str],
    bars: list[float],
    line: list[float | None],
    title: str,
    bar_label: str,
    line_label: str,
    line_max: float | None = None,
) -> str:
    """Bars per day (left scale) and a line over them (right scale, or line_max), with a legend."""
    width, height, left, right, top, bottom = 960, 240, 48, 48, 24, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(days))
    bar_max = max(bars, default=0) or 1
    known = [value for value in line if value is not None]
    line_top = line_max or (max(known, default=0) or 1)
    legend = left + 14 + 7 * len(bar_label) + 24  # the line's legend, after the bars' label
    parts = [
        f'<svg role=img aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<line class=axis x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
        f'y2="{top + plot_h}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_number(bar_max)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
        f'<text x="{left + plot_w + 6}" y="{top + 4}">{_number(line_top)}</text>',
        f'<rect class=bar x="{left}" y="4" width="10" height="10"/>'
        f'<text x="{left + 14}" y="13">{escape(bar_label)}</text>'
        f'<line class=line x1="{legend}" y1="9" x2="{legend + 20}" y2="9"/>'
        f'<text x="{legend + 24}" y="13">{escape(line_label)}</text>',
    ]
    points = []
    label_every = max(1, len(days) // 10)
    for index, (day, bar, value) in enumerate(zip(days, bars, line, strict=True)):
        x = left + index * step
        bar_h = plot_h * bar / bar_max
        parts.append(
            f'<rect class=bar x="{x + step * 0.15:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{step * 0.7:.1f}" height="{bar_h:.1f}"><title>{escape(day)}: '
            f"{_number(bar)}</title></rect>"
        )
        if value is not None:
            points.append(f"{x + step / 2:.1f},{top + plot_h - plot_h * value / line_top:.1f}")
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{escape(day[5:])}</text>'
            )
    if points:
        parts.append(f'<polyline class=line points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.2f}"


# --- the report --------------------------------------------------------------------------------


def _shortfall_table(groups: list[WordingGroup], kinds: bool) -> str:
    if not groups:
        return "<p class=muted>None in this period.</p>"
    rows = []
    for group in groups[:SHOWN_GROUPS]:
        examples = "".join(f"<li>{escape(text)}</li>" for text in group.examples)
        kind = f"<td>{escape(', '.join(group.kinds))}</td>" if kinds else ""
        rows.append(
            f"<tr><td class=n>{group.count}</td><td>{escape(group.wording)}"
            f"<ul class=examples>{examples}</ul></td>{kind}</tr>"
        )
    kind_header = "<th>what the guides lack</th>" if kinds else ""
    rest = groups[SHOWN_GROUPS:]
    more = (
        f"<p class=muted>{len(rest):,} smaller groups ({sum(g.count for g in rest):,} messages) "
        "not shown: a shorter period shows them.</p>"
        if rest
        else ""
    )
    return (
        f"<table><tr><th>messages</th><th>wording (examples){kind_header}</th></tr>"
        f"{''.join(rows)}</table>{more}"
    )


@dataclass(frozen=True)
class Links:
    """Where the report's pages are served. A token that came in the query (a browser's way)
    travels in the links too (one sent in the Authorization header need not), and so does the
    period asked for, so "back to the report" returns to it."""

    base: str  # the report's own address, e.g. /webhooks/report/
    token: str | None = None
    kept: tuple[tuple[str, str], ...] = ()  # e.g. (("since", "2026-11-01"),)

    def _query(self) -> str:
        params = dict(self.kept) | ({"token": self.token} if self.token else {})
        return f"?{urlencode(params)}" if params else ""

    def report(self) -> str:
        return self.base + self._query()

    def conversation(self, learner: str) -> str:
        return f"{self.base}conversations/{quote(learner)}{self._query()}"

    def lookup_form(self) -> str:
        # A GET form drops its action's query: what it carries goes in hidden fields.
        carried = dict(self.kept) | ({"token": self.token} if self.token else {})
        hidden = "".join(
            f'<input type=hidden name="{escape(name)}" value="{escape(value)}">'
            for name, value in carried.items()
        )
        return (
            f'<form method=get action="{escape(self.base)}conversations">{hidden}'
            '<label>A learner\'s hash <input name=learner pattern="[0-9a-f]{12}" required>'
            "</label> <button>Open the conversation</button></form>"
        )


def render_report(report: Report, links: Links | None = None) -> str:
    """The report as an HTML page. links: where the conversation browser is, or None where the
    page has none (the file `make report` writes)."""
    period = report.period
    days = [day.day.isoformat() for day in report.days]
    title = f"Operators' report, {period.first_day} to {period.last_day}"
    mean = "n/a" if report.mean_confidence is None else f"{report.mean_confidence:.2f}"
    figures = [
        ("messages", f"{report.messages:,}"),
        ("active learners", f"{report.active_learners:,}"),
        ("answered with a clarifying question", f"{report.clarified_messages:,}"),
        ('answered "the documents don\'t cover this"', f"{report.not_covered_messages:,}"),
        ("mean intent confidence", mean),
        (f"low confidence (< {LOW_CONFIDENCE})", _percent(report.low_confidence_share)),
    ]
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class=muted>UTC days, both included. Learners are shown as a keyed hash of their id. "
        f"Made {escape(_day(datetime.now(timezone.utc).timestamp()))} UTC.</p>",
        "<div class=figures>",
        *(f"<div class=figure><b>{value}</b>{escape(name)}</div>" for name, value in figures),
        "</div>",
        "<h2 id=activity>Messages and active learners per day</h2>",
        day_plot(
            days,
            [day.messages for day in report.days],
            [day.learners for day in report.days],
            "Messages and active learners per day",
            "messages",
            "active learners (right scale)",
        ),
        "<details><summary>as a table</summary><table><tr><th>day</th><th>messages</th>"
        "<th>active learners</th></tr>",
        *(
            f"<tr><td>{day.day}</td><td class=n>{day.messages}</td>"
            f"<td class=n>{day.learners}</td></tr>"
            for day in report.days
        ),
        "</table></details>",
        "<h2 id=topics>Topics asked</h2>",
        horizontal_bars(
            report.topics,
            lambda row: f"{row.count:,} ({_percent(row.share)})",
            "Topic questions by topic, with their share",
        ),
        f"<p class=muted>Share of the {sum(t.count for t in report.topics):,} topic questions. "
        f'Follow-ups to an answer ("tell me more"), counted apart: {report.follow_ups:,}.</p>',
        "<h2 id=fell-short>Where it fell short</h2>",
        "<p>Each list groups messages of similar wording, the commonest first: turn the top ones "
        "into knowledge-base entries (<code>knowledge/*.yml</code>, then <code>make kb</code>)."
        "</p>",
        f'<h3 id=not-covered>Answered "the documents don\'t cover this" '
        f"({report.not_covered_messages:,})</h3>",
        _shortfall_table(report.not_covered, kinds=True),
        f"<h3 id=clarified>Answered with a clarifying question ({report.clarified_messages:,})"
        "</h3>",
        "<p class=muted>NLU could not place these: <code>action_clarify</code> answered, with a "
        'clarifying question or the closest passage. A message it answered "not covered" is in '
        "the list above only.</p>",
        _shortfall_table(report.clarified, kinds=False),
        "<h2 id=confidence>Intent confidence</h2>",
        day_plot(
            days,
            [day.low for day in report.confidence],
            [day.mean_confidence for day in report.confidence],
            "Low-confidence messages and mean intent confidence per day",
            f"messages below {LOW_CONFIDENCE} or NLU's fallback",
            "mean confidence (right scale, 0 to 1)",
            line_max=1.0,
        ),
        f"<p>{report.low_confidence:,} of {report.messages:,} messages "
        f"({_percent(report.low_confidence_share)}) had an intent confidence below "
        f"{LOW_CONFIDENCE} (config.yml's fallback threshold) or fell back.</p>",
        "<h2 id=funnel>The career path</h2>",
        horizontal_bars(
            report.funnel,
            lambda row: f"{row.count:,} ({_percent(row.share)})",
            "Learners who have reached each milestone",
        ),
        f"<p class=muted>Of the {report.learners_stored:,} learners in the learner database "
        "now, how many have reached each milestone.</p>",
        f"<p>Goals: {report.goals.set:,} set, {report.goals.done:,} done and "
        f"{report.goals.dropped:,} dropped in the period; {report.goals.open:,} open now, "
        f"{report.goals.overdue:,} of them overdue.</p>",
        "<h2 id=conversations>Conversations</h2>",
    ]
    if links is not None:
        body.append(links.lookup_form())
    rows = []
    for summary in report.conversations:
        name = escape(summary.learner)
        if links is not None:
            name = f'<a href="{escape(links.conversation(summary.learner))}">{name}</a>'
        rows.append(
            f"<tr><td><code>{name}</code></td><td>{escape(summary.channel)}</td>"
            f"<td class=n>{summary.messages}</td><td>{escape(_day(summary.last_message))}</td></tr>"
        )
    body.append(
        "<p class=muted>The latest in the period.</p><table><tr><th>learner</th><th>channel</th>"
        f"<th>messages</th><th>last message (UTC)</th></tr>{''.join(rows)}</table>"
    )
    return _page(title, "".join(body))


def render_conversation(conversation: Conversation, back: str) -> str:
    """One conversation's turns; back: the report's address."""
    title = f"Conversation {conversation.learner}"
    rows = []
    for turn in conversation.turns:
        confidence = "" if turn.confidence is None else f"{turn.confidence:.2f}"
        answered = escape(turn.answered_by or "")
        if turn.not_covered:
            answered += f"<br><span class=muted>not covered: {escape(turn.not_covered)}</span>"
        replies = "".join(f"<p class=bot>{escape(reply)}</p>" for reply in turn.replies)
        rows.append(
            f"<tr class=user><td>{escape(_day(turn.timestamp))}</td><td>{escape(turn.text)}</td>"
            f"<td>{escape(turn.intent or '')}</td><td class=n>{confidence}</td>"
            f"<td>{answered}</td></tr>"
            f"<tr><td></td><td colspan=4>{replies}</td></tr>"
        )
    body = (
        f'<p><a href="{escape(back)}">Back to the report</a></p><h1>{escape(title)}</h1>'
        f"<p class=muted>Channel: {escape(conversation.channel)}. {len(conversation.turns)} "
        "messages, each with the intent NLU predicted, its confidence, the action that answered "
        "and the replies.</p>"
        "<table><tr><th>when (UTC)</th><th>message</th><th>intent</th><th>confidence</th>"
        f"<th>answered by</th></tr>{''.join(rows)}</table>"
    )
    return _page(title, body)


def render_message(title: str, text: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")
