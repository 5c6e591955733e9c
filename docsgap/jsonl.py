"""Reading the JSON-lines files the `detect`, `match` and `eval` commands take."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docsgap.errors import ConfigError
from docsgap.textfile import read_utf8


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a bad line is a `ConfigError` naming
    path:line, so the user sees where to look."""
    lines = read_utf8(path).splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{n}: not valid JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise ConfigError(f"{path}:{n}: expected a JSON object")
        yield n, record
