"""The loop: the adapters and state a command needs (`services`), the stages wired for a run
(`pipeline`), one run under the state's lock (`run`), its summary (`summary`) and the reuse of
match results between runs (`matchcache`).

Names are imported on first use, so `docsgap doctor` can take the probes from `services`
without paying for the pipeline's imports."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from docsgap.loop.pipeline import Pipeline
    from docsgap.loop.run import RunReport, run_once
    from docsgap.loop.services import Services, build_services

__all__ = ["Pipeline", "RunReport", "Services", "build_services", "run_once"]

_HOME = {"Pipeline": "pipeline", "RunReport": "run", "run_once": "run", "Services": "services",
         "build_services": "services"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
