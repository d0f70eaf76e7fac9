"""The operators' report, served by the Rasa server at /webhooks/report/ (common/report.py).

credentials.yml:
    addons.operator_report.OperatorReportInput:

A channel that takes no messages: Rasa's extension point for serving routes of one's own (as
addons/website_widget.py serves the widget). Pages:

    GET /webhooks/report/?since=2026-11-01&until=2026-11-30   the report (default: last 30 days)
    GET /webhooks/report/conversations/<learner hash>          one conversation's turns
    GET /webhooks/report/conversations?learner=<hash>          the same, from the page's form

Off (404, saying so) unless REPORT_TOKEN is set. Then every page needs the token, as
`Authorization: Bearer <token>` or, for a browser, `?token=<token>` (the page's links carry it
on), compared in constant time; anything else gets a 403. Each answer says `Cache-Control:
no-store` and `Referrer-Policy: no-referrer`, and a Content-Security-Policy that lets the page
load nothing from anywhere.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common.report import MissingStore, Period, build_report, find_conversation, path_steps
from common.report_page import (
    SECURITY_HEADERS,
    Links,
    render_conversation,
    render_message,
    render_report,
)
from common.settings import Settings, load_settings

logger = logging.getLogger(__name__)

OFF = "The operators' report is off: set REPORT_TOKEN in the Rasa server's environment."
REFUSED = (
    "This page needs the report's token: send it as 'Authorization: Bearer <token>' or add "
    "?token=<token> to the address."
)
MAX_DAYS = 366


@dataclass(frozen=True)
class Page:
    status: int
    html: str


def presented_token(headers: Mapping[str, str], args: Mapping[str, str]) -> tuple[str, bool]:
    """The token a request carries, and whether it came in the query (then links carry it)."""
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), False
    return args.get("token") or "", True


def authorised(presented: str, configured: str) -> bool:
    """Whether the token presented is the configured one, in constant time; never when none is
    configured."""
    return bool(configured) and hmac.compare_digest(presented.encode(), configured.encode())


def period_from(args: Mapping[str, str]) -> Period:
    """The period a request asks for (since, until: YYYY-MM-DD, UTC), by default the last 30
    days; ValueError for anything else."""
    default = Period.last_days(30)
    since = date.fromisoformat(args["since"]) if args.get("since") else None
    until = date.fromisoformat(args["until"]) if args.get("until") else default.last_day
    period = Period(since or until - (default.last_day - default.first_day), until)
    if not 0 <= (period.last_day - period.first_day).days < MAX_DAYS:
        raise ValueError("the period must run forwards, for at most a year")
    return period


def page_for(
    settings: Settings,
    headers: Mapping[str, str],
    args: Mapping[str, str],
    base: str,
    learner: str | None = None,
) -> Page:
    """What a GET of the report (learner None) or of a learner's conversation answers."""
    if not settings.report_token:
        return Page(404, render_message("Report off", OFF))
    token, in_query = presented_token(headers, args)
    if not authorised(token, settings.report_token):
        return Page(403, render_message("Token needed", REFUSED))
    kept = tuple((name, args[name]) for name in ("since", "until") if args.get(name))
    links = Links(base, token if in_query else None, kept)
    if learner is not None:
        found = find_conversation(settings.tracker_db_url, learner.strip(), settings.report_token)
        if found is None:
            text = "No learner who has sent a message has that hash (or they deleted their data)."
            return Page(404, render_message("No such conversation", text))
        return Page(200, render_conversation(found, links.report()))
    try:
        period = period_from(args)
    except ValueError as error:
        return Page(400, render_message("Which period?", f"since/until: YYYY-MM-DD ({error})."))
    try:
        report = build_report(
            settings.tracker_db_url,
            settings.learner_db_url,
            period,
            settings.report_token,
            path_steps(settings.knowledge_dir),
        )
    except MissingStore as error:
        return Page(503, render_message("Nothing to report", f"{error}: check TRACKER_DB_URL."))
    return Page(200, render_report(report, links))


class OperatorReportInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "report"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("operator_report", __name__)

        async def serve(request: Request, learner: str | None = None) -> HTTPResponse:
            base = f"/webhooks/{self.url_prefix()}/"
            args = {name: request.args.get(name) for name in request.args}
            try:
                # In a thread: a report reads much, and learners' messages must not wait for it.
                page = await asyncio.to_thread(
                    page_for, load_settings(), request.headers, args, base, learner
                )
            except Exception:
                logger.exception("The operators' report failed.")
                page = Page(500, render_message("Report failed", "See the Rasa server's log."))
            return response.html(page.html, status=page.status, headers=SECURITY_HEADERS)

        @blueprint.route("/", methods=["GET"])
        async def report(request: Request) -> HTTPResponse:
            return await serve(request)

        @blueprint.route("/conversations", methods=["GET"])
        async def looked_up(request: Request) -> HTTPResponse:
            return await serve(request, request.args.get("learner") or "")

        @blueprint.route("/conversations/<learner>", methods=["GET"])
        async def conversation(request: Request, learner: str) -> HTTPResponse:
            return await serve(request, learner)

        return blueprint
