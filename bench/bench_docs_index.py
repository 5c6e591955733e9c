"""Benchmark the docs index on a generated docs tree shaped like GitLab's `doc/` folder (front
matter, nested sections, code blocks, tables, links; page sizes spread around the ~12 KB
average of GitLab's runner and omnibus docs). Times, on a fresh on-disk state:

- `sync`: `docsgap docs sync --path` of the whole tree (read, parse, store every page);
- `resync`: the same with nothing changed (read and compare only);
- `index`: building the searchable index from the stored pages (what a run does);
- `search`: questions per second against it.

Run: `.venv/bin/python bench/bench_docs_index.py [--pages 2500] [--seed S] [--repeat R]`.
The target (issue #16): a 2,500-page tree indexes (sync + index) in under 10 s."""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

from docsgap.docs.index import DocsIndex
from docsgap.docs.store import DocsStore
from docsgap.docs.sync import sync_path
from docsgap.state import StateStore

AREAS = ["ci", "user/project", "administration", "api", "user/group", "user/packages",
         "install", "security", "development", "update", "topics", "operations"]
NOUNS = ["pipeline", "runner", "job", "artifact", "cache", "variable", "token", "group",
         "project", "registry", "package", "backup", "merge request", "issue", "branch", "tag",
         "environment", "deployment", "webhook", "schedule", "approval", "label", "milestone",
         "repository", "secret", "certificate", "cluster", "agent", "policy", "scanner"]
VERBS = ["configure", "create", "delete", "troubleshoot", "migrate", "rotate", "enable",
         "disable", "restrict", "monitor", "import", "export", "protect", "retry", "update"]
FILLER = ("When you {verb} a {noun}, GitLab checks the {noun2} settings of the {noun3} first. "
          "Administrators can change this behaviour in the Admin area, and project "
          "maintainers can override it for a single {noun}. ")


def _sentence(rng: random.Random) -> str:
    return FILLER.format(verb=rng.choice(VERBS), noun=rng.choice(NOUNS),
                         noun2=rng.choice(NOUNS), noun3=rng.choice(NOUNS))


def make_page(rng: random.Random, n: int) -> str:
    """One page, ~2-40 KB: front matter, intro, 4-16 sections with text, lists, code, tables."""
    topic = f"{rng.choice(VERBS)} {rng.choice(NOUNS)}s {n}"
    parts = [f"---\nstage: Verify\ngroup: Group {n % 40}\ninfo: generated\ntitle: "
             f"{topic.capitalize()}\n---\n", " ".join(_sentence(rng) for _ in range(3))]
    for s in range(rng.randint(4, 16)):
        level = "##" if s % 3 == 0 else "###"
        parts.append(f"{level} {rng.choice(VERBS).capitalize()} the {rng.choice(NOUNS)} {s}")
        parts.append(" ".join(_sentence(rng) for _ in range(rng.randint(1, 7))))
        if rng.random() < 0.5:
            parts.append("1. On the left sidebar, select **Settings > CI/CD**.\n"
                         "1. Expand **General pipelines**.\n1. Select **Save changes**.")
        if rng.random() < 0.4:
            parts.append("```yaml\njob:\n  script:\n    - echo \"$CI_COMMIT_SHA\"\n"
                         "  rules:\n    - if: $CI_PIPELINE_SOURCE == \"schedule\"\n```")
        if rng.random() < 0.2:
            rows = "\n".join(f"| `{rng.choice(NOUNS)}_{i}` | {_sentence(rng)} |"
                             for i in range(rng.randint(3, 12)))
            parts.append(f"| Setting | Description |\n|---|---|\n{rows}")
        if rng.random() < 0.3:
            parts.append(f"See [the {rng.choice(NOUNS)} page](../{rng.choice(NOUNS)}.md).")
    return "\n\n".join(parts) + "\n"


def make_tree(root: Path, pages: int, seed: int) -> int:
    """Write `pages` pages under root/doc; returns the total bytes."""
    rng = random.Random(seed)
    total = 0
    for n in range(pages):
        area = rng.choice(AREAS)
        folder = f"topic_{n}" if n % 9 == 0 else f"topic_{n % 150}"
        name = "_index.md" if n % 9 == 0 else f"page_{n}.md"
        path = root / "doc" / area / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = make_page(rng, n)
        path.write_text(text, encoding="utf-8")
        total += len(text.encode())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "checkout"
        size = make_tree(root, args.pages, args.seed)
        print(f"tree: {args.pages} pages, {size / 1e6:.1f} MB")
        best: dict[str, float] = {}
        for r in range(args.repeat):
            state = StateStore(Path(tmp) / f"state{r}.db")
            docs = DocsStore(state.db)
            t0 = time.perf_counter()
            result = sync_path(docs, root, "gitlab-org/gitlab", commit="bench")
            t1 = time.perf_counter()
            again = sync_path(docs, root, "gitlab-org/gitlab", commit="bench")
            t2 = time.perf_counter()
            index = DocsIndex(docs.pages())
            t3 = time.perf_counter()
            questions = [f"how do I {rng_q} a {noun} in the pipeline"
                         for rng_q in VERBS for noun in NOUNS[:10]]
            for q in questions:
                index.search(q)
            t4 = time.perf_counter()
            state.close()
            if result.changed != args.pages or again.changed:
                raise SystemExit(f"unexpected sync counts: {result} / {again}")
            for name, value in (("sync", t1 - t0), ("resync", t2 - t1), ("index", t3 - t2),
                                ("sync+index", (t1 - t0) + (t3 - t2)),
                                ("search per question", (t4 - t3) / len(questions))):
                best[name] = min(best.get(name, value), value)
        for name, value in best.items():
            unit = "ms" if "per" in name else "s"
            shown = value * 1000 if unit == "ms" else value
            print(f"{name:>20}: {shown:.2f} {unit} (best of {args.repeat})")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{'max RSS':>20}: {rss:.0f} MiB")
        print("target: sync+index < 10 s for 2,500 pages:",
              "met" if best["sync+index"] < 10 else "NOT met")


if __name__ == "__main__":
    main()
