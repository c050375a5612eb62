"""Time in segsql: every instant is a naive `datetime` holding UTC, and one parser reads
the ISO forms users write (dates, timestamps, with or without an offset)."""

from __future__ import annotations

from datetime import date, datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def utc_naive(value):
    """An aware datetime as naive UTC; anything else unchanged (naive values hold UTC)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def parse_instant(value: object) -> datetime:
    """An ISO date (its midnight) or timestamp, `Z` or an offset allowed (Airflow renders
    `2026-01-01T00:00:00+00:00`), as naive UTC. Raises ValueError (or OverflowError for an
    offset that leaves the datetime range) for anything else."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, date):
        ts = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            d = date.fromisoformat(text)
            ts = datetime(d.year, d.month, d.day)
    else:
        raise ValueError(f"not a date or timestamp: {value!r}")
    return utc_naive(ts)
