"""What each command of the engineer's flow asks of the forum and of GitLab: the demo forum and
project in the sandbox (with Discourse's limits on, as forum.gitlab.com has them), each
command run through the CLI as an engineer types it, with the default policies (every write
waits for review). Prints one row per command: requests to the forum and to GitLab, and the
endpoints. Nothing is timed: the figures are request counts, the cost on the real servers.

Run: `.venv/bin/python bench/command_costs.py`.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from typer.testing import CliRunner  # noqa: E402

from docsgap.cli import app  # noqa: E402
from docsgap.demo.loop import MR_FILE, MR_TOPIC  # noqa: E402
from docsgap.sandbox import (  # noqa: E402
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_GITLAB_TOKEN,
    SANDBOX_PROJECT,
    Sandbox,
)

TOPIC = str(MR_TOPIC)


def endpoint(entry: dict[str, object]) -> str:
    """`forum GET /t/{n}/{n}.json` from a logged request (with its status unless 2xx)."""
    path = str(entry["path"]).split("?")[0]
    path = re.sub(r"/projects/[^/]+", "/projects/:id", path).removeprefix("/api/v4")
    path = re.sub(r"/\d+", "/{n}", path)
    status = int(str(entry["status"]))
    return f"{entry['service']} {entry['method']} {path}" + (
        f" ({status})" if not 200 <= status < 300 else "")


def main() -> None:
    runner = CliRunner()
    with Sandbox(discourse_limits=True, skip_waits=True) as sandbox, \
            tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ.update({
            "DOCSGAP_FORUM_URL": sandbox.forum_url, "DOCSGAP_GITLAB_URL": sandbox.gitlab_url,
            "DOCSGAP_GITLAB_PROJECT": SANDBOX_PROJECT, "DOCSGAP_GITLAB_TOKEN": SANDBOX_GITLAB_TOKEN,
            "DOCSGAP_DISCOURSE_API_KEY": SANDBOX_DISCOURSE_API_KEY,
            "DOCSGAP_DISCOURSE_API_USERNAME": SANDBOX_DISCOURSE_API_USERNAME,
            "DOCSGAP_STATE": str(work / "state.db"),
        })
        (work / "docsgap.toml").write_text(
            '[forum]\nstaff_usernames = ["gitlab-team"]\n[dedup]\nclosed_within_days = 3650\n',
            encoding="utf-8")
        config = ["--config", str(work / "docsgap.toml")]
        fixed = work / "fixed.md"
        original = sandbox.state()["files"][f"{SANDBOX_PROJECT}@master"][MR_FILE]
        fixed.write_text(original + "\nTo expose a whole directory, end its path with `/`.\n",
                         encoding="utf-8")
        rows: list[tuple[str, Counter[str], int]] = []

        def cost(label: str, *args: str, before: object = None) -> None:
            if callable(before):
                before()
            sandbox.clear_requests()
            result = runner.invoke(app, [*args, *config] if args[0] != "docs" or
                                   args[1] != "search" else list(args))
            log = sandbox.requests_log()
            rows.append((label, Counter(endpoint(e) for e in log), result.exit_code))
            if os.environ.get("SHOW"):
                print(f"$ docsgap {' '.join(args)}\n{result.output}")

        cost("docs sync (first)", "docs", "sync")
        cost("docs sync (nothing changed)", "docs", "sync")
        cost(f"run --topic {TOPIC} (dry, first)", "run", "--topic", TOPIC, "-q")
        cost(f"run --topic {TOPIC} (dry, again)", "run", "--topic", TOPIC, "-q")
        cost(f"run --topic {TOPIC} --apply (all wait)", "run", "--topic", TOPIC, "--apply", "-q")
        cost("review --list", "review", "--list")
        cost("review --accept-all", "review", "--accept-all")
        cost(f"run --topic {TOPIC} --apply (accepted)", "run", "--topic", TOPIC, "--apply",
             "-q")
        cost(f"run --topic {TOPIC} --apply (rerun)", "run", "--topic", TOPIC, "--apply", "-q")
        cost(f"mr {TOPIC} (dry)", "mr", TOPIC, "--file", MR_FILE, "--content", str(fixed))
        cost(f"mr {TOPIC} --apply --reply", "mr", TOPIC, "--file", MR_FILE, "--content",
             str(fixed), "--apply", "--reply")
        cost("run (dry, first scan)", "run", "-q")
        cost("run (dry, nothing new)", "run", "-q")
        cost("followup (dry, MR merged)", "followup",
             before=lambda: sandbox.merge_merge_request(
                 max(m["iid"] for m in sandbox.state()["merge_requests"])))
        cost("review --accept-all", "review", "--accept-all")
        cost("followup --apply", "followup", "--apply")
        cost("followup --apply (rerun)", "followup", "--apply")

        print(f"{'command':<42} {'exit':>4} {'forum':>5} {'gitlab':>6}  endpoints")
        for label, counts, code in rows:
            forum = sum(n for e, n in counts.items() if e.startswith("forum"))
            gitlab = sum(n for e, n in counts.items() if e.startswith("gitlab"))
            shown = ", ".join(f"{n}x {e.split(' ', 1)[1]}" if n > 1 else e.split(" ", 1)[1]
                              for e, n in counts.most_common())
            print(f"{label:<42} {code:>4} {forum:>5} {gitlab:>6}  {shown}")


if __name__ == "__main__":
    main()
