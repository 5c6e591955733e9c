"""What a `docsgap run` costs on a big forum: seed the sandbox (default 10,000 topics / 100,000
posts / 50,000 issues, 5% of topics holding a docs complaint), then run docsgap as a user would
(`python -m docsgap run`, dry) for a first scan, a no-op rerun, `run --topic` on one thread
(before and after the issues change), an incremental run after 1% new posts and 1% changed
issues, and a run that meets a 2 MB post. Prints requests per endpoint,
docsgap's CPU time, wall time and peak RSS (each run is its own process), and the sandbox's
CPU, beside the floors of issue #15. First, what starting costs: Python alone, importing
`docsgap.cli`, and everything `docsgap run` imports before it starts (issue #16).

docsgap's processes run with a bytecode cache (a temporary `PYTHONPYCACHEPREFIX`), as an
installed package has its `.pyc` files; `--no-pyc` compiles docsgap from source in every
process instead (what `PYTHONDONTWRITEBYTECODE=1` does, as on the shared dev machine).

Run: `.venv/bin/python bench/scale.py [--topics N] [--posts N] [--issues N] [--seed S]
[--no-pyc]`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from scale_data import AREAS, complaint, forum_seed, gitlab_seed  # noqa: E402

from docsgap.detect.detector import Detector  # noqa: E402
from docsgap.detect.rules import load_rules  # noqa: E402
from docsgap.models import Post, Thread  # noqa: E402
from docsgap.sandbox import (  # noqa: E402
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_GITLAB_TOKEN,
    SANDBOX_PROJECT,
)

TICK = os.sysconf("SC_CLK_TCK")


# --- the sandbox, in a process of its own -------------------------------------------------------

def serve(args: argparse.Namespace) -> None:
    """Child: seed and serve; print the base URL, the complaint topics and the seeding CPU."""
    from docsgap.sandbox import Sandbox

    rng = random.Random(args.seed)
    forum, complaints = forum_seed(args.topics, args.posts, args.complaints, rng)
    data = {"forum": forum, "gitlab": gitlab_seed(args.issues, rng)}
    start = time.process_time()
    sandbox = Sandbox(data)
    seeded = time.process_time() - start
    del data, forum
    print(json.dumps({"url": sandbox.base_url, "complaints": complaints,
                      "seed_cpu": round(seeded, 1)}), flush=True)
    sandbox.serve_forever()


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def control(base: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}/_sandbox/{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def endpoint(entry: dict[str, Any]) -> str:
    """A request log entry as `service endpoint` (ids folded)."""
    path = entry["path"].split("?")[0]
    if entry["service"] == "forum":
        if path.startswith("/t/"):
            return "forum /t/{id}/posts.json" if path.endswith("/posts.json") else \
                "forum /t/{id}.json"
        return f"forum {path}"
    return "gitlab " + path.rsplit("/", 1)[-1]


# --- docsgap, one process per run ---------------------------------------------------------------

def run_docsgap(workdir: Path, base: str, extra: list[str] | None = None,
                toml_extra: str = "") -> dict[str, Any]:
    """`python -m docsgap run --json` as its own process: its CPU, peak RSS and wall time."""
    config = workdir / "docsgap.toml"
    config.write_text(
        f'state_path = "{workdir / "state.db"}"\nmax_actions = 100\n'
        f'[forum]\nurl = "{base}/forum"\napi_username = "{SANDBOX_DISCOURSE_API_USERNAME}"\n'
        f'staff_usernames = ["gitlab-team"]\ninitial_pages = 1000000\n'
        f'max_requests = 1000000\n{toml_extra}'
        f'[gitlab]\nurl = "{base}/gitlab"\nproject = "{SANDBOX_PROJECT}"\n'
        f'max_requests = 1000000\n[dedup]\nclosed_within_days = 3650\n', encoding="utf-8")
    env = {**os.environ, "DOCSGAP_GITLAB_TOKEN": SANDBOX_GITLAB_TOKEN,
           "DOCSGAP_DISCOURSE_API_KEY": SANDBOX_DISCOURSE_API_KEY}
    env.pop("CI", None)
    cmd = [sys.executable, "-m", "docsgap", "run", "--config", str(config), "--json",
           "--quiet", *(extra or [])]
    started = time.monotonic()
    with open(workdir / "out.json", "wb") as out, open(workdir / "err.txt", "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 6, 7):
        raise SystemExit(f"docsgap run failed ({code}): {(workdir / 'err.txt').read_text()}")
    result = json.loads((workdir / "out.json").read_text() or "{}")
    return {"cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "wall": wall, "exit": code, "signals": len(result.get("signals", [])),
            "scanned": result.get("threads_scanned")}


def measure(cmd: list[str]) -> tuple[float, float]:
    """CPU (user + system) and wall seconds of a command run as its own process."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{cmd} failed")
    return usage.ru_utime + usage.ru_stime, time.monotonic() - started


def start_up(runs: int = 7) -> None:
    """What a process pays before docsgap does anything, median (min) of `runs` fresh ones."""
    cases = [("Python alone", "pass"), ("import docsgap.cli", "import docsgap.cli"),
             ("imports of `docsgap run`",
              "from docsgap import cli; cli.register(cli.modules_for(['run']))")]
    print(f"\n== start-up, each a fresh process, median (min) of {runs}")
    for label, code in cases:
        cmd = [sys.executable, "-c", code]
        measure(cmd)  # fills the bytecode cache
        got = [measure(cmd) for _ in range(runs)]
        cpu, wall = sorted(c for c, _ in got), sorted(w for _, w in got)
        print(f"   {label:<26} CPU {statistics.median(cpu):.2f} s ({cpu[0]:.2f})"
              f"   wall {statistics.median(wall):.2f} s ({wall[0]:.2f})")


def phase(name: str, base: str, sandbox_pid: int, workdir: Path, floors: dict[str, float],
          **kw: Any) -> dict[str, Any]:
    control(base, "DELETE", "requests")
    before = cpu_of(sandbox_pid)
    got = run_docsgap(workdir, base, **kw)
    log = control(base, "GET", "requests")
    got["sandbox_cpu"] = cpu_of(sandbox_pid) - before
    got["endpoints"] = Counter(endpoint(e) for e in log)
    got["forum"] = sum(1 for e in log if e["service"] == "forum")
    got["gitlab"] = sum(1 for e in log if e["service"] == "gitlab")
    show(name, got, floors)
    return got


def show(name: str, got: dict[str, Any], floors: dict[str, float]) -> None:
    print(f"\n== {name}")
    for ep, n in sorted(got["endpoints"].items()):
        print(f"   {n:7,d}  {ep}")
    rows = [("forum requests", got["forum"], floors.get("forum")),
            ("gitlab requests", got["gitlab"], floors.get("gitlab")),
            ("requests", got["forum"] + got["gitlab"], floors.get("requests")),
            ("docsgap CPU s", round(got["cpu"], 2), floors.get("cpu")),
            ("wall s", round(got["wall"], 2), floors.get("wall")),
            ("peak RSS MB", round(got["rss_mb"]), floors.get("rss")),
            ("sandbox CPU s", round(got["sandbox_cpu"], 1), None)]
    for label, value, limit in rows:
        verdict = "" if limit is None else ("  ok" if value <= limit else "  OVER")
        bound = "" if limit is None else f"  (target <= {limit:,.0f})"
        print(f"   {label:<16} {value:>10,}{bound}{verdict}")
    print(f"   signals {got['signals']}, topics with new posts {got['scanned']}, "
          f"exit {got['exit']}")


# --- the scenario -------------------------------------------------------------------------------

def mutate(base: str, args: argparse.Namespace, rng: random.Random, complaints: list[int]
           ) -> int:
    """1% new posts (5% of them complaints, each in a topic without one) and 1% changed
    issues (closed or reopened). Returns how many topics newly hold a complaint."""
    new_posts = max(1, args.posts // 100)
    plain = [t for t in range(2000, 2000 + args.topics) if t not in set(complaints)]
    fresh = rng.sample(plain, max(1, round(new_posts * args.complaints)))
    for n in range(new_posts):
        topic = fresh[n] if n < len(fresh) else rng.randrange(2000, 2000 + args.topics)
        text = complaint(rng, rng.choice(AREAS)) if n < len(fresh) else \
            "Same here, the job stays pending for a few minutes after the upgrade."
        control(base, "POST", f"forum/topics/{topic}/posts",
                {"raw": text, "username": f"user{rng.randrange(2000):05d}"})
    for iid in rng.sample(range(1, args.issues + 1), max(1, args.issues // 100)):
        try:
            control(base, "POST", f"gitlab/issues/{iid}/close", {})
        except urllib.error.HTTPError:
            control(base, "POST", f"gitlab/issues/{iid}/reopen", {})
    return len(fresh)


def big_post(rng: random.Random, size: int) -> str:
    """About `size` characters of forum text, one complaint in five paragraphs."""
    parts: list[str] = []
    total = 0
    while total < size:
        part = complaint(rng, rng.choice(AREAS))
        parts.append(part)
        total += len(part) + 2
    return "\n\n".join(parts)


def detect_alone(text: str) -> float:
    """CPU seconds to judge the text as a one-post thread, uncut (what `run` would do)."""
    from datetime import UTC, datetime

    detector = Detector(load_rules())
    thread = Thread(1, "big", "A long post", "https://forum.test/t/big/1",
                    (Post(1, 1, 1, "ann", datetime.now(UTC), "", text),))
    start = time.process_time()
    detector.detect_thread(thread)
    return time.process_time() - start


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--topics", type=int, default=10_000)
    p.add_argument("--posts", type=int, default=100_000)
    p.add_argument("--issues", type=int, default=50_000)
    p.add_argument("--complaints", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-pyc", action="store_true",
                   help="compile docsgap from source in every process (no bytecode cache)")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args)
        return
    pycache = None
    if not args.no_pyc:  # for every process started from here on
        pycache = tempfile.mkdtemp(prefix="docsgap-bench-pyc-")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = pycache
    child = subprocess.Popen([sys.executable, __file__, "--serve", *sys.argv[1:]],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        scenario(args, info, child.pid)
    finally:
        child.terminate()
        child.wait()
        if pycache is not None:
            shutil.rmtree(pycache, ignore_errors=True)


def scenario(args: argparse.Namespace, info: dict[str, Any], pid: int) -> None:
    base, complaints = info["url"], info["complaints"]
    print(f"sandbox: {args.topics:,} topics, {args.posts:,} posts, {args.issues:,} issues, "
          f"{len(complaints):,} complaint topics; seeded in {info['seed_cpu']} s CPU; "
          + ("no bytecode cache" if args.no_pyc else "with a bytecode cache"))
    start_up()
    rng = random.Random(args.seed + 1)
    gitlab_floor = 1.25 * (math.ceil(args.issues / 100) + 5)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        first_floor = math.ceil(args.posts / 50) + 2 * len(complaints)
        phase("first scan (dry)", base, pid, work, {
            "forum": 1.25 * first_floor, "gitlab": gitlab_floor, "cpu": 60, "rss": 300})
        for n in (1, 2, 3):
            phase(f"no-op rerun {n} of 3", base, pid, work,
                  {"requests": 3, "wall": 2, "rss": 300})
        topic_floor = {"requests": 3, "rss": 300}
        for n in (1, 2, 3):
            phase(f"run --topic {complaints[0]} (dry; a judged complaint thread, nothing "
                  f"changed), {n} of 3", base, pid, work, topic_floor,
                  extra=["--topic", str(complaints[0])])
        (work / "state.db.rules-cache").unlink(missing_ok=True)  # as after an upgrade
        phase(f"run --topic {complaints[0]} without the rules cache (rules loaded, checked, "
              "compiled and kept again)", base, pid, work, topic_floor,
              extra=["--topic", str(complaints[0])])
        fresh = mutate(base, args, rng, complaints)
        new_posts = max(1, args.posts // 100)
        incr_forum = math.ceil(new_posts / 50) + 1 + 2 * fresh
        incr_gitlab = 2 * (math.ceil(max(1, args.issues // 100) / 100) + 1)
        phase(f"incremental: {new_posts:,} new posts ({fresh} complaints in new topics), "
              f"{max(1, args.issues // 100):,} changed issues", base, pid, work,
              {"forum": 1.25 * incr_forum, "gitlab": 1.25 * incr_gitlab, "rss": 300})
        phase(f"run --topic {complaints[1]} (dry; after the issue changes, so its signal is "
              "matched against every cached issue again)", base, pid, work, topic_floor,
              extra=["--topic", str(complaints[1])])
        text = big_post(rng, 2_000_000)
        print(f"\n== a {len(text) / 1e6:.1f} MB post: judged alone, uncut: "
              f"{detect_alone(text):.1f} s CPU (target < 5)")
        control(base, "POST", f"forum/topics/{2000 + args.topics // 2}/posts",
                {"raw": text, "username": "user00001"})
        phase("run meeting the 2 MB post (forum.max_post_chars = 200,000; the whole run, "
              "matching its new signals against every issue included)", base, pid, work,
              {"rss": 300})
        control(base, "POST", f"forum/topics/{2000 + args.topics // 3}/posts",
                {"raw": text, "username": "user00002"})
        phase("run meeting the 2 MB post uncut (forum.max_post_chars = 10**9; the whole run)",
              base, pid, work, {"rss": 300}, toml_extra="max_post_chars = 1000000000\n")


if __name__ == "__main__":
    main()
