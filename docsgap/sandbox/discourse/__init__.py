"""The sandbox's Discourse (served under `/forum`, or at the root): `routes` (auth, the shared
admin-key limit, the read and reply endpoints), `posting` (`POST /posts.json`'s checks),
`queue` (watched words and the approval queue),
`views`, `site` and `users` (the JSON shapes), `state` (the forum's data and who may see what)
and `markup` (raw Markdown to `cooked` HTML)."""

from __future__ import annotations

from docsgap.sandbox.discourse.routes import handle
from docsgap.sandbox.discourse.state import ForumSettings, ForumState

__all__ = ["ForumSettings", "ForumState", "handle"]
