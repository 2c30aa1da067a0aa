"""Schemathesis hooks for scripts/schemathesis.sh: constraints between query parameters
that an OpenAPI document cannot state, applied to generated queries.

`from` and `to` are each a `YYYY-MM-DD` day or an RFC 3339 instant (the document says
so), but `to` must also be after `from`, and a PR series holds at most 2000 buckets. A
query whose `from` and `to` are both valid yet break that is changed before it is sent
so that it does not (one end is dropped): the server's 400 for it is documented, not a
contract bug. A query with an invalid `from` or `to` is left alone, so negative cases
stay negative.
"""

import re
from datetime import date, datetime, timezone

import schemathesis

MAX_BUCKETS = 2000
BUCKET_DAYS = {"day": 1, "week": 7, "month": 28}
EPOCH = date(1970, 1, 1)
# What the server parses as RFC 3339 (Python's fromisoformat takes more than that).
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _instant(value, end_of_day):
    """Seconds since the epoch, as the server reads it; None when it is not valid."""
    if not isinstance(value, str):
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            days = date.fromisoformat(value).toordinal() - EPOCH.toordinal()
            return (days + (1 if end_of_day else 0)) * 86400
        if not RFC3339.match(value):
            return None
        # A leap second, which Python does not represent, sorts as the second before.
        value = re.sub(r"^(.{10}.\d{2}:\d{2}):60", r"\1:59", value.upper())
        parsed = datetime.fromisoformat(value)
        return (parsed - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()
    except (ValueError, OverflowError):
        return None


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Every phase (coverage too, which no generation hook sees) goes through here."""
    if case.query:
        order_range(case.operation.path, case.query)
        order_days(case.operation.path, case.query)
        limit_site_buckets(case.operation.path, case.query)


def order_range(path, query):
    """Drops an end of a valid `from`..`to` that the server must refuse; in place."""
    if "from" not in query or "to" not in query:
        return
    start = _instant(query["from"], end_of_day=False)
    end = _instant(query["to"], end_of_day=True)
    if start is None or end is None:
        return
    if start >= end:
        del query["to"]
    elif path.endswith("/pulls/series"):
        interval = query.get("interval", "week")
        days = BUCKET_DAYS.get(interval) if isinstance(interval, str) else None
        if days is not None and (end - start) / 86400 / days > MAX_BUCKETS - 2:
            del query["from"]


MAX_DAYS = 3660


def order_days(path, query):
    """Coding-time summaries: `end` must not be before `start`, and a range covers at
    most MAX_DAYS days; a valid `start` that breaks either is dropped."""
    if not path.endswith("/summaries") or "range" in query:
        return
    try:
        start = date.fromisoformat(query.get("start", ""))
        # Without `end`, the range ends today (in the user's zone: a day either way).
        end = date.fromisoformat(query["end"]) if "end" in query else date.today()
    except (TypeError, ValueError):
        return
    if end < start or (end - start).days >= MAX_DAYS:
        del query["start"]


SITE_BUCKET_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 28}


def limit_site_buckets(path, query):
    """Site stats: `from` defaults to 30 days before `to` (itself now by default), and a
    series holds at most MAX_BUCKETS buckets; a valid `from` that breaks it is dropped."""
    if not path.endswith("/stats") or "/sites/" not in path or "from" not in query:
        return
    interval = query.get("interval", "day")
    days = SITE_BUCKET_DAYS.get(interval) if isinstance(interval, str) else None
    start = _instant(query["from"], end_of_day=False)
    end = _instant(query["to"], end_of_day=True) if "to" in query else datetime.now(timezone.utc).timestamp()
    if days is None or start is None or end is None:
        return
    if start >= end or (end - start) / 86400 / days > MAX_BUCKETS - 2:
        del query["from"]
