"""Talking to a running sandbox from outside (the `docsgap sandbox state` command): its
control API over plain HTTP, with failures turned into docsgap errors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from docsgap.errors import ConfigError, PayloadError, UnavailableError
from docsgap.sandbox.wire import JSON

DEFAULT_PORT = 8787
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


def control_url(url: str, name: str) -> str:
    """`{base}/_sandbox/{name}` from a sandbox base URL (a `/forum` or `/gitlab` suffix is
    dropped, so any of the URLs `serve` prints works)."""
    base = url.rstrip("/")
    for suffix in ("/forum", "/gitlab", "/_sandbox/state", "/_sandbox"):
        base = base.removesuffix(suffix)
    return f"{base}/_sandbox/{name}"


def fetch_state(url: str = DEFAULT_URL, *, timeout: float = 10.0) -> JSON:
    """`GET /_sandbox/state` of the sandbox at `url`."""
    target = control_url(url, "state")
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:  # noqa: S310 - loopback
            data: Any = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise PayloadError(f"{target} answered {exc.code}: is this a docsgap sandbox?",
                           status=exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UnavailableError(
            f"no sandbox answering at {target}: {reason}",
            hint="start one with `docsgap sandbox serve` (or pass --url)",
        ) from exc
    except ValueError as exc:
        raise PayloadError(f"{target} did not answer with JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PayloadError(f"{target} answered with a {type(data).__name__}, not an object")
    return data


def load_seed(path: Path) -> JSON:
    """A seed file (`{"forum": {...}, "gitlab": {...}}`; either part may be left out to keep
    the demo's)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read sandbox data {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not ({"forum", "gitlab"} & set(data)):
        raise ConfigError(f"{path}: expected an object with a 'forum' and/or 'gitlab' key")
    return data
