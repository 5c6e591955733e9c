"""The forum scan: `scanner` walks the latest-posts pages into the state and reads a topic's
thread only when it holds a candidate; `held` keeps the posts held in the state; `topics`
reads the topic a `--topic` argument names."""

from docsgap.scan.scanner import Scanner
from docsgap.scan.topics import topic_id

__all__ = ["Scanner", "topic_id"]
