"""Benchmark `Detector.detect_text` on a synthetic forum corpus: posts/second on one core and
peak memory. Run: `.venv/bin/python bench/bench_detect.py [--posts N] [--seed S]`."""

from __future__ import annotations

import argparse
import random
import resource
import time
import tracemalloc

from docsgap.detect import Detector
from docsgap.rules import load_rules

GREETINGS = ["Hi all,", "Hello everyone!", "Hey folks,", "Good morning,", ""]
CHATTER = [
    "I am running a self-managed instance on Ubuntu 22.04 with the Omnibus package.",
    "Our pipeline builds a Docker image and pushes it to the project registry.",
    "The runner uses the docker executor with privileged mode enabled.",
    "After the upgrade to the latest release the job stays pending for a while.",
    "We have about two hundred projects and a handful of group runners.",
    "I tried restarting the service and clearing the cache, nothing changed.",
    "Any help is appreciated, thanks in advance.",
    "Here is the relevant part of my configuration file.",
    "The merge request pipeline only starts when I push a new commit.",
    "I read the docs but I am not sure which setting applies to my case.",
]
DOCS_MENTIONS = [
    "I followed the guide at https://docs.gitlab.com/runner/install/linux-repository/ closely.",
    "According to the documentation this should work out of the box.",
    "See [the CI/CD reference](https://docs.gitlab.com/ee/ci/yaml/) for the keywords.",
    "The docs at https://docs.gitlab.com/ee/administration/backup_restore/ explain the restore.",
]
COMPLAINTS = [
    "The docs are wrong about the default path, it is not the one shown there.",
    "This page is out of date, the menu it describes no longer exists.",
    "The explanation of the cache key is really confusing.",
    "The upgrade guide doesn't mention that the service must be stopped first.",
    "The link to the requirements page is broken and gives a 404.",
]
LOG = "```\n2024-05-01T10:00:00Z ERROR job failed: exit code 1\nsee https://docs.gitlab.com/runner/shells/\n```"


def make_post(rng: random.Random) -> str:
    """One synthetic post: greeting, chatter, maybe docs, a log, a quote, maybe a complaint."""
    parts = [rng.choice(GREETINGS)] + rng.sample(CHATTER, rng.randint(2, 6))
    if rng.random() < 0.5:
        parts.insert(rng.randint(1, len(parts)), rng.choice(DOCS_MENTIONS))
    if rng.random() < 0.3:
        parts.append(LOG)
    if rng.random() < 0.2:
        parts.insert(1, "> " + rng.choice(CHATTER))
    if rng.random() < 0.1:
        parts.append(rng.choice(COMPLAINTS))
    if rng.random() < 0.5:  # Discourse cooked HTML instead of Markdown
        body = "".join(f"<p>{p}</p>\n" for p in parts if p and not p.startswith(("```", ">")))
        if LOG in parts:
            body += '<pre><code class="lang-plaintext">ERROR job failed: exit code 1</code></pre>'
        return body
    return "\n\n".join(parts)


def main() -> None:
    """Generate the corpus, warm up, time one pass on one core, then trace memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    corpus = [(f"Question {n}", make_post(rng)) for n in range(args.posts)]
    detector = Detector(load_rules())
    for title, text in corpus[:200]:  # warm caches (regex, docs-URL map)
        detector.detect_text(title, text)
    started = time.perf_counter()
    gaps = sum(detector.detect_text(title, text).is_gap for title, text in corpus)
    elapsed = time.perf_counter() - started
    # Memory is traced in a second, shorter pass: tracing slows Python code several times over.
    tracemalloc.start()
    for title, text in corpus[: min(len(corpus), 2000)]:
        detector.detect_text(title, text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    avg = sum(len(t) for _, t in corpus) / len(corpus)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"posts: {len(corpus)} (avg {avg:.0f} chars), flagged as gaps: {gaps}")
    print(f"time: {elapsed:.2f} s -> {len(corpus) / elapsed:,.0f} posts/s on one core")
    print(f"peak traced memory (2,000 posts): {peak / 1e6:.1f} MB; max RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()
