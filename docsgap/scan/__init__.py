"""The forum scan: `scanner` walks the latest-posts pages into the state and reads a topic's
thread only when it holds a candidate; `held` keeps the posts held in the state."""

from docsgap.scan.scanner import Scanner, topic_id

__all__ = ["Scanner", "topic_id"]
