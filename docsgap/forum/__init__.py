"""The forum side: the `Forum` protocol and its Discourse adapter."""

from docsgap.forum.interface import ChangedTopics, Forum

__all__ = ["ChangedTopics", "Forum"]
