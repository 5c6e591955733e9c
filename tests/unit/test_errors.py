"""The README's exit-code table and `ExitCode` must agree."""

from __future__ import annotations

import re

from docsgap.errors import ExitCode
from tests.conftest import REPO


def test_readme_exit_code_table_matches_enum() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1]
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    assert codes == {int(c) for c in ExitCode}
