"""Detection: docs-gap signals in forum posts, from rules kept as data in `rules/`.

The public face: `load_rules` compiles the rules directory into a `RuleSet`, a `Detector` judges
threads and texts with it, `check_rules` runs every rule's own examples.
"""

from docsgap.detect.detector import Detector, ThreadVerdict
from docsgap.detect.examples import check_rules, failing_examples
from docsgap.detect.rules import load_rules
from docsgap.detect.ruleset import RuleSet

__all__ = ["Detector", "RuleSet", "ThreadVerdict", "check_rules", "failing_examples", "load_rules"]
