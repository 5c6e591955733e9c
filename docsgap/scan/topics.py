"""The topic a `--topic` argument names: a bare id or a topic URL on the configured forum."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from docsgap.errors import ConfigError

_TOPIC_PATH = re.compile(r"/t/(?:(\d+)|[^/]+/(\d+))(?:/\d+)?/?(?:\.json)?$")


def topic_id(text: str, forum_url: str) -> int:
    """The topic a forum URL (`/t/slug/123`, `/t/slug/123/4`, `/t/123`) or a bare id names;
    `ConfigError` for anything else or for a URL on another site than `forum_url`."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    parts = urlsplit(text)
    site = urlsplit(forum_url)
    found = _TOPIC_PATH.search(parts.path.rstrip("/")) if parts.scheme else None
    if found is None:
        raise ConfigError(f"--topic {text!r} is neither a topic id nor a topic URL",
                          hint="pass e.g. https://forum.gitlab.com/t/some-title/123 or 123")
    if (parts.hostname or "").lower() != (site.hostname or "").lower():
        raise ConfigError(f"--topic {text!r} is not on the configured forum {forum_url}",
                          hint="set forum.url (or DOCSGAP_FORUM_URL) to that site")
    return int(found.group(1) or found.group(2))
