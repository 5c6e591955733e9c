"""`docsgap demo`: the whole loop against the in-process loopback sandbox (`loop`: dry run,
apply, review, a draft MR, the docs team closing and merging, the follow-ups, a last pass that
changes nothing), then the docs-first part (`docsfirst`). It sits above every stage and the
loop: nothing in docsgap imports it but the CLI."""

from docsgap.demo.loop import demo_config, run_demo

__all__ = ["demo_config", "run_demo"]
