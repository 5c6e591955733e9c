"""Discourse's anonymous cache (`lib/middleware/anonymous_cache.rb`), the part docsgap meets:
an anonymous GET of an action that calls `discourse_expires_in 1.minute` (the topic view, the
topic lists, the category list) may be answered from a copy up to a minute old, so a read
right after a write need not show the new post.

As in the middleware: only GETs without an API key (`Api-Key` or `User-Api-Key` header,
`api_key` parameter) are cached; the key is the request URI with its query as sent, the
`Accept` header, the host and whether it is an XHR; only a 200 is stored, and only once its
key has been asked `anon_cache_store_threshold` times within the duration (2 by default, so
the first answer is always fresh); a stored copy is served until it expires, whatever
changed since. Responses say what happened in `X-Discourse-Cached` (`skip`, `store`,
`true`). Not modelled: the mobile, crawler, browser, brotli, theme and locale parts of the
key (docsgap sends the same ones every time), `_bypass_cache` cookies, and forced-anonymous
answers under load."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from urllib.parse import urlencode

from docsgap.sandbox.wire import Request, Response

CACHED_ACTIONS = frozenset({"topics#show", "list#latest", "categories#index"})
"""Controller actions that call `discourse_expires_in 1.minute` (`TopicsController#show`,
`TopicListResponder#respond_with_list`, `CategoriesController#index`); `/posts.json`,
`/t/{id}/posts.json` and single posts are never cached."""

Key = tuple[str, str, str, str]


def cacheable(req: Request) -> bool:
    """`Helper#cacheable?`: a GET that carries no API key of any kind."""
    return (req.method == "GET" and req.header("Api-Key") is None
            and req.header("User-Api-Key") is None and req.arg("api_key") is None)


def cache_key(req: Request) -> Key:
    """`Helper#cache_key`, less the parts docsgap never varies."""
    query = urlencode([(k, v) for k, values in req.query.items() for v in values])
    uri = req.path + (f"?{query}" if query else "")
    xhr = (req.header("X-Requested-With") or "").lower() == "xmlhttprequest"
    return ("t" if xhr else "f", req.header("Accept") or "", req.host, uri)


@dataclass
class AnonCache:
    """Stored answers and the per-key ask counts, each with its expiry (sandbox clock)."""

    stored: dict[Key, tuple[float, Response]] = field(default_factory=dict)
    counts: dict[Key, tuple[int, float]] = field(default_factory=dict)

    def cached(self, key: Key, now: float) -> Response | None:
        """A copy of the stored answer while it is fresh (`Helper#cached`)."""
        entry = self.stored.get(key)
        if entry is None or entry[0] <= now:
            self.stored.pop(key, None)
            return None
        response = copy.deepcopy(entry[1])
        response.headers["X-Discourse-Cached"] = "true"
        return response

    def offer(self, key: Key, response: Response, now: float, seconds: float,
              threshold: int) -> Response:
        """`Helper#cache`: count a fresh 200 and store it once asked `threshold` times within
        `seconds` (the count's expiry moves with every ask, as Redis `EXPIRE` does)."""
        if response.status != 200 or seconds <= 0 or threshold <= 0:
            return response
        if threshold > 1:
            count, expires = self.counts.get(key, (0, 0.0))
            count = count + 1 if expires > now else 1
            self.counts[key] = (count, now + seconds)
            if count < threshold:
                response.headers["X-Discourse-Cached"] = "skip"
                return response
        kept = copy.deepcopy(response)
        kept.headers["X-Discourse-Cached"] = "true"
        self.stored[key] = (now + seconds, kept)
        response.headers["X-Discourse-Cached"] = "store"
        return response
