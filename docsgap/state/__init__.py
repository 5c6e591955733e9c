"""The local state: a SQLite file (`store`, its schema in `schema`) holding cursors, threads,
signals, the tracker cache, thread <-> issue links, review verdicts and the ledger of actions;
`lock` keeps two runs off one file, `ci` carries it between CI jobs in the package registry.

The public face is `StateStore` and the time helpers every stage stamps rows with.
"""

from docsgap.state.store import StateStore
from docsgap.state.times import iso, parse_iso, utcnow
from docsgap.state.usable import CORRUPT_HINT, check_usable

__all__ = ["CORRUPT_HINT", "StateStore", "check_usable", "iso", "parse_iso", "utcnow"]
