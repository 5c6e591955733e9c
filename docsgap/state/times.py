"""Time as the state stores it: aware UTC, ISO-8601 with offset."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware UTC now (one place, so tests can monkeypatch it)."""
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    """ISO-8601 with offset, or None."""
    return dt.isoformat() if dt else None


def parse_iso(text: str | None) -> datetime | None:
    """Parse ISO-8601 (with `Z` or offset) into an aware datetime."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
