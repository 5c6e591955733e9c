"""Deduplication: each signal against the cached GitLab doc issues and MRs.

The public face: a `Matcher` over the cached items ranks candidates for a signal and `decide`s
`link`, `review` or `new`; `group_signals` gathers signals about one gap.
"""

from docsgap.dedupe.decision import candidate_json, decide
from docsgap.dedupe.grouping import group_signals
from docsgap.dedupe.matcher import Matcher

__all__ = ["Matcher", "candidate_json", "decide", "group_signals"]
