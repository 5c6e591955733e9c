"""The tracker side: the `Tracker` protocol and its GitLab adapter."""

from docsgap.tracker.interface import Tracker

__all__ = ["Tracker"]
