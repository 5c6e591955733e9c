"""Where the shipped data (rules, templates, docs-URL map) lives, in a checkout or an install."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path


def shipped_rules_dir() -> Path:
    """The `rules/` directory shipped with docsgap."""
    here = Path(__file__).resolve().parent
    installed = [Path(base) / "share" / "docsgap" / "rules"
                 for base in dict.fromkeys((sysconfig.get_path("data"), sys.prefix))]
    for candidate in (here.parent / "rules", *installed):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("docsgap's rules/ directory is missing from this installation")


def templates_dir() -> Path:
    """`rules/templates/`: every outbound text is composed from these."""
    return shipped_rules_dir() / "templates"
