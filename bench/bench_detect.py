"""Benchmark `Detector.detect_text` on synthetic forum corpora: posts/second on one core (CPU
time of the best of a few passes, so other load on a shared machine counts less; wall time too)
and peak memory. Corpora: `forum` (realistic mix: plain questions without any docs words, posts
with logs and code blocks, posts that mention or link the docs, a few complaints; half cooked
HTML, half Markdown) and `worst` (long posts where every sentence holds docs words, complaint
words, links and negations, so every gate passes and every rule and canceller runs).
Each corpus is timed with the rules alone and with the rules plus the shipped learned scorer
(the default detector), side by side under the same load; the model's load time and file size
are printed first.
Run: `.venv/bin/python bench/bench_detect.py [--posts N] [--seed S] [--repeat R]`."""

from __future__ import annotations

import argparse
import random
import resource
import time
import tracemalloc
from collections.abc import Callable

from docsgap.detect.detector import Detector
from docsgap.detect.model import SHIPPED, read_model
from docsgap.detect.rules import load_rules

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
    "Since yesterday the container registry cleanup policy stopped deleting old tags.",
    "Is there a way to limit the number of concurrent jobs per project?",
    "My colleague sees the same error on his fork, so it is not my account.",
]
DOCS_MENTIONS = [
    "I read the docs but I am not sure which setting applies to my case.",
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
CONFIG = "```yaml\nbuild:\n  image: docker:24\n  script:\n    - docker build -t app .\n```"
HTML_CODE = (
    '<pre><code class="lang-plaintext">ERROR job failed: exit code 1\n  at main</code></pre>'
)


def _render(parts: list[str], rng: random.Random) -> str:
    """Markdown (parts joined by blank lines) or Discourse-style cooked HTML."""
    if rng.random() < 0.5:
        return "\n\n".join(p for p in parts if p)
    body = ""
    for p in parts:
        if not p:
            continue
        if p.startswith("```"):
            body += HTML_CODE
        elif p.startswith("> "):
            body += f'<aside class="quote"><blockquote><p>{p[2:]}</p></blockquote></aside>\n'
        else:
            body += f"<p>{p}</p>\n"
    return body


def forum_post(rng: random.Random) -> str:
    """A realistic post: half are plain questions with no docs words at all; others add a log or
    config block, a quote, a docs mention or link, and about one in ten a complaint."""
    parts = [rng.choice(GREETINGS), *rng.sample(CHATTER, rng.randint(2, 6))]
    kind = rng.random()
    if kind >= 0.5:
        if rng.random() < 0.5:
            parts.append(rng.choice([LOG, CONFIG]))
        if rng.random() < 0.2:
            parts.insert(1, "> " + rng.choice(CHATTER))
        if rng.random() < 0.6:
            parts.insert(rng.randint(1, len(parts)), rng.choice(DOCS_MENTIONS))
        if kind >= 0.8:
            parts.append(rng.choice(COMPLAINTS))
    return _render(parts, rng)


WORST_SENTENCES = [
    "The docs at https://docs.gitlab.com/ee/ci/yaml/ are not wrong but the guide is outdated.",
    "This page doesn't mention the option and the example in the documentation fails.",
    "I could not find anything in the docs, the tutorial is confusing and the link is broken.",
    "The instructions say to use the old setting which has been removed, please update the docs.",
    "It is unclear from the documentation whether the readme is still correct or out of date.",
    "Thanks, the guide was great and not confusing, but the reference page has a typo.",
]


def worst_post(rng: random.Random) -> str:
    """A long post where every sentence passes many gates (docs + complaint + negation words)."""
    parts = [" ".join(rng.choices(WORST_SENTENCES, k=3)) for _ in range(rng.randint(6, 10))]
    return _render(parts, rng)


def _time(detector: Detector, corpus: list[tuple[str, str]], repeat: int) -> tuple[float, float]:
    """Best CPU seconds and best wall seconds of `repeat` passes."""
    cpu = wall = float("inf")
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        for title, text in corpus:
            detector.detect_text(title, text)
        cpu = min(cpu, time.process_time() - started_cpu)
        wall = min(wall, time.perf_counter() - started)
    return cpu, wall


def main() -> None:
    """Generate each corpus, warm up, time it on one core, then trace memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="passes per corpus (best counts)")
    args = parser.parse_args()
    started = time.perf_counter()
    model = read_model(SHIPPED)
    print(f"model: {SHIPPED.name} {SHIPPED.stat().st_size / 1e3:.0f} kB, {len(model.weights)} "
          f"weights, loaded in {time.perf_counter() - started:.3f} s")
    rules = load_rules()
    detectors = {"rules": Detector(rules, None), "rules+model": Detector(rules, model)}
    makers: dict[str, tuple[Callable[[random.Random], str], int]] = {
        "forum": (forum_post, args.posts),
        "worst": (worst_post, max(1, args.posts // 10)),
    }
    for name, (make, count) in makers.items():
        rng = random.Random(args.seed)
        corpus = [(f"Question {n}", make(rng)) for n in range(count)]
        avg = sum(len(t) for _, t in corpus) / len(corpus)
        print(f"[{name}] posts: {len(corpus)} (avg {avg:.0f} chars)")
        for label, detector in detectors.items():
            for title, text in corpus[:200]:  # warm caches (regex, docs-URL map, word weights)
                detector.detect_text(title, text)
            gaps = sum(detector.detect_text(title, text).is_gap for title, text in corpus)
            cpu, wall = _time(detector, corpus, args.repeat)
            print(f"[{name}] {label:<11} {len(corpus) / cpu:,.0f} posts/s on one core (CPU time, "
                  f"best of {args.repeat}); wall clock {len(corpus) / wall:,.0f} posts/s; "
                  f"flagged as gaps: {gaps}")
    detector = detectors["rules+model"]
    # Memory is traced in a separate, shorter pass: tracing slows Python code several times over.
    rng = random.Random(args.seed)
    sample = [(f"Question {n}", forum_post(rng)) for n in range(2000)]
    tracemalloc.start()
    for title, text in sample:
        detector.detect_text(title, text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak traced memory (2,000 forum posts): {peak / 1e6:.2f} MB; max RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()
