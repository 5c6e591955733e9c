"""What `run --apply` asks of GitLab, by endpoint: the demo forum and project in the sandbox, a
first run (issues, evidence notes, replies, the summary issue) and a rerun, with gitlab.com's
application limits on (search 30/min, issue creation 200/min, notes 60/min). Prints the
requests per endpoint, how many carry a rate-limited `search=` (issue and MR lists; label
searches are not limited), and the 429s met.

Run: `.venv/bin/python bench/gitlab_requests.py` (`--docs`: sync the docs index first, so
issues get owner labels; their lookups, `GET /projects/:id/labels?search=devops::...`, are
counted apart).
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docsgap.demo.loop import demo_config  # noqa: E402
from docsgap.docs.service import sync_docs  # noqa: E402
from docsgap.loop.run import run_once  # noqa: E402
from docsgap.sandbox import Sandbox  # noqa: E402
from docsgap.state import StateStore  # noqa: E402


def endpoint(method: str, path: str) -> str:
    """`GET /projects/:id/issues/:n/notes` from a logged request."""
    path = re.sub(r"/projects/[^/?]+", "/projects/:id", path.split("?")[0])
    path = re.sub(r"/\d+", "/:n", path)
    return f"{method} {path}"


def main() -> None:
    with Sandbox(discourse_limits=True, skip_waits=True) as sandbox, \
            tempfile.TemporaryDirectory() as tmp:
        cfg = demo_config(sandbox, Path(tmp))
        if "--docs" in sys.argv:
            store = StateStore(cfg.state_path)
            try:
                sync_docs(cfg, store)
            finally:
                store.close()
        for n in (1, 2):
            sandbox.clear_requests()
            report = run_once(cfg, apply=True)
            log = [r for r in sandbox.requests_log() if r["service"] == "gitlab"]
            applied = Counter(o.action.kind.value for o in report.result.outcomes
                              if o.status == "applied")
            print(f"run {n}: exit {int(report.exit_code)}, applied {dict(applied) or 'none'}, "
                  f"{len(log)} GitLab requests")
            for name, count in Counter(endpoint(r["method"], r["path"]) for r in log
                                       ).most_common():
                print(f"  {count:5d}  {name}")
            limited = [r for r in log if "search=" in r["path"]
                       and ("/issues" in r["path"] or "/merge_requests" in r["path"])]
            print(f"  rate-limited searches: {len(limited)}; 429s: "
                  f"{sum(1 for r in log if r['status'] == 429)}")
            owners = [r for r in log if "/labels?" in r["path"] and "%3A%3A" in r["path"]]
            print(f"  owner-label lookups: {len(owners)}")


if __name__ == "__main__":
    main()
