"""The YAML loader for rules and the docs map: libyaml's safe loader where PyYAML was built
with it (twenty times faster; every run loads the rules), else the pure-Python one. Both give
the same nodes and line marks."""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
