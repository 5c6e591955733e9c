"""The forum side: the `Forum` protocol and its Discourse adapter."""

from docsgap.forum.interface import Forum

__all__ = ["Forum"]
