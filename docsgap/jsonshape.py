"""Strict reads of JSON payload fields shared by the adapters: a wrong type raises TypeError
or ValueError, which each adapter reports as its `PayloadError`."""

from __future__ import annotations

from typing import Any

INT64 = range(-(2**63), 2**63)
"""What SQLite's INTEGER holds: an id past it would parse and then break the state insert."""


def integer(value: Any) -> int:
    """A JSON id or count: an integer (digits in a string pass); a bool, a fraction, a
    non-finite float (Python's JSON reads `Infinity`) or a number past 64 bits does not."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise TypeError(f"expected an integer, got {value!r}")
    number = int(value)
    if number not in INT64:
        raise ValueError(f"integer out of range: {number}")
    return number


def text(value: Any) -> str | None:
    """A JSON string field, or None when null or absent; another type is malformed."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")
