"""GET /v1/usage: a tenant's own usage, with totals and per-day and per-model breakdowns."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from litestar import Request, get

from router.errors import InvalidRequestError
from router.http.credentials import any_key
from router.http.services import services
from storage.models import UsageRecord, utcnow
from storage.usage_records import UsageSummary, UsageTotals

CSV_COLUMNS = (
    "id",
    "request_id",
    "created_at",
    "finished_at",
    "tenant_id",
    "key_id",
    "dialect",
    "requested_model",
    "provider",
    "upstream_model",
    "voice",
    "response_format",
    "input_characters",
    "audio_seconds",
    "output_bytes",
    "time_to_first_byte_ms",
    "latency_ms",
    "status",
    "error_code",
    "failovers",
    "cost_usd",
)


def date_range(start: str | None, end: str | None) -> tuple[date, date]:
    """The half-open day range [start, end); by default this month up to and including today."""
    today = utcnow().date()
    try:
        first = date.fromisoformat(start) if start else today.replace(day=1)
        last = date.fromisoformat(end) if end else today + timedelta(days=1)
    except ValueError as exc:
        msg = "Invalid date: expected YYYY-MM-DD for 'start' and 'end'."
        raise InvalidRequestError(msg, param="start" if start else "end") from exc
    if last <= first:
        raise InvalidRequestError("'end' must be after 'start'.", param="end")
    return first, last


def _totals(totals: UsageTotals) -> dict[str, Any]:
    body = asdict(totals)
    body["audio_seconds"] = round(body["audio_seconds"], 3)
    body["cost_usd"] = round(body["cost_usd"], 6)
    return body


def summary_body(
    summary: UsageSummary, first: date, last: date, tenant_id: str | None
) -> dict[str, Any]:
    """The JSON answer for a usage summary."""
    body: dict[str, Any] = {
        "object": "usage",
        "tenant_id": tenant_id,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "totals": _totals(summary.totals),
        "by_day": [{"day": day, **_totals(totals)} for day, totals in summary.by_day],
        "by_model": [{"model": model, **_totals(totals)} for model, totals in summary.by_model],
    }
    if summary.by_tenant is not None:
        body["by_tenant"] = [
            {"tenant_id": tenant, **_totals(totals)} for tenant, totals in summary.by_tenant
        ]
    return body


async def csv_rows(records: AsyncIterator[UsageRecord]) -> AsyncIterator[bytes]:
    """Usage rows as CSV, a header then one line per record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    async for record in records:
        writer.writerow([_cell(getattr(record, column)) for column in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _cell(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value


@get("/usage")
async def own_usage(
    request: Request[Any, Any, Any], start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    """The caller's tenant's usage in [start, end)."""
    found = services(request)
    principal = await found.authenticator.authenticate(any_key(request))
    first, last = date_range(start, end)
    summary = await found.usage.summarize(principal.tenant_id, first, last)
    return summary_body(summary, first, last, principal.tenant_id)
