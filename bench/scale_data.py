"""Synthetic sandbox seeds for `bench/scale.py`: a forum of N topics / M posts where a share of
the topics hold a docs complaint, and a docs project of K issues. Deterministic for a seed.

All text is made up here (template sentences), never taken from the shared corpus."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from docsgap.sandbox.seed import load_demo_data

JSON = dict[str, Any]
START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_DAYS = 900

AREAS = [
    ("ci/yaml", "CI/CD YAML syntax", "rules changes keyword"),
    ("ci/caching", "caching in pipelines", "cache key paths"),
    ("ci/variables", "CI/CD variables", "masked variable length"),
    ("runner/install/linux-repository", "installing the runner", "repository signing key"),
    ("administration/backup_restore", "backup and restore", "restore order of services"),
    ("user/packages/container_registry", "the container registry", "cleanup policy tags"),
    ("user/project/merge_requests/approvals", "merge request approvals", "approval rules"),
    ("topics/git/lfs", "Git LFS", "lfs objects storage"),
    ("ci/environments", "environments", "stop action jobs"),
    ("user/group/saml_sso", "SAML SSO for groups", "identity provider metadata"),
    ("administration/gitaly", "Gitaly", "storage paths config"),
    ("ci/pipelines/merge_request_pipelines", "merge request pipelines", "detached pipelines"),
]
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
    "Since yesterday the cleanup job stopped deleting old tags.",
    "Is there a way to limit the number of concurrent jobs per project?",
    "My colleague sees the same error on his fork, so it is not my account.",
    "Thanks, that solved it for me.",
    "Could you share the output of the job log with debug tracing on?",
    "Which version of GitLab and of the runner are you on?",
    "I ended up pinning the image to the previous tag and it works again.",
]
CODE = "```yaml\nbuild:\n  image: docker:24\n  script:\n    - docker build -t app .\n```"
COMPLAINTS = [
    "The docs at {url} are wrong: the {topic} example does not work as written.",
    "The page {url} is outdated, it still describes the old {topic} behaviour.",
    "The documentation at {url} is confusing about {topic}, I read it three times.",
    "The docs at {url} don't mention {topic} at all, that part is missing.",
    "The example on {url} for {topic} is incorrect and fails with an error.",
]
DOCS = "https://docs.gitlab.com/{path}/"


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _post_text(rng: random.Random) -> str:
    parts = [rng.choice(CHATTER) for _ in range(rng.randint(2, 6))]
    if rng.random() < 0.15:
        parts.append(CODE)
    return "\n\n".join([" ".join(parts[:3]), *parts[3:]])


def complaint(rng: random.Random, area: tuple[str, str, str]) -> str:
    """A post holding one docs complaint about `area`, amid ordinary text."""
    path, _title, topic = area
    line = rng.choice(COMPLAINTS).format(url=DOCS.format(path=path), topic=topic)
    return f"{_post_text(rng)}\n\n{line}"


def forum_seed(topics: int, posts: int, complaint_share: float, rng: random.Random
               ) -> tuple[JSON, list[int]]:
    """The demo forum's users, categories and keys with `topics` generated topics holding
    `posts` posts in all; returns the seed and the ids of the complaint topics."""
    demo = load_demo_data()["forum"]
    users = list(demo["users"])
    people = [f"user{n:05d}" for n in range(2000)]
    users += [{"id": 10_000 + n, "username": name, "trust_level": 1}
              for n, name in enumerate(people)]
    staff = [u["username"] for u in demo["users"] if (u.get("moderator") or u.get("admin"))
             and u["username"] not in ("system", "docsgap-bot")]
    # Public categories only: the bench measures a forum docsgap may read in full.
    categories = [c["id"] for c in demo["categories"]
                  if not c.get("read_restricted") and not c.get("groups")]
    sizes = _sizes(topics, posts, rng)
    complaints = set(rng.sample(range(topics), round(topics * complaint_share)))
    out: list[JSON] = []
    for n in range(topics):
        area = rng.choice(AREAS)
        created = START + timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60))
        at = created
        items: list[JSON] = []
        target = rng.randrange(sizes[n]) if n in complaints else -1
        for k in range(sizes[n]):
            author = rng.choice(staff) if k and rng.random() < 0.1 else rng.choice(people)
            text = complaint(rng, area) if k == target else _post_text(rng)
            items.append({"user": author if k != target else rng.choice(people),
                          "at": _stamp(at), "raw": text})
            at += timedelta(minutes=rng.randint(5, 3000))
        out.append({"id": 2000 + n, "title": f"Question about {area[1]} ({n})",
                    "category_id": rng.choice(categories), "posts": items})
    seed = {k: v for k, v in demo.items() if k not in ("topics", "_about")}
    seed.update(users=users, topics=out)
    return seed, sorted(2000 + n for n in complaints)


def _sizes(topics: int, posts: int, rng: random.Random) -> list[int]:
    """Posts per topic: at least one, the rest spread unevenly (a few long threads)."""
    sizes = [1] * topics
    weights = [rng.paretovariate(1.6) for _ in range(topics)]
    for n in rng.choices(range(topics), weights=weights, k=max(0, posts - topics)):
        sizes[n] += 1
    return sizes


def gitlab_seed(issues: int, rng: random.Random) -> JSON:
    """The demo GitLab with `issues` generated docs issues (no notes, a few closed)."""
    demo = load_demo_data()["gitlab"]
    project = dict(demo["projects"][0])
    authors = [u["username"] for u in demo["users"] if u["username"] != "docsgap-bot"]
    made: list[JSON] = []
    for n in range(issues):
        path, title, topic = rng.choice(AREAS)
        created = START + timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60))
        words = " ".join(rng.sample(CHATTER, 2))
        state = "closed" if rng.random() < 0.3 else "opened"
        made.append({
            "iid": n + 1, "title": f"Docs: {title}: {topic} ({n})",
            "description": f"The page {DOCS.format(path=path)} about {topic}. {words}",
            "labels": ["documentation"], "author": rng.choice(authors), "state": state,
            "created_at": _stamp(created), "updated_at": _stamp(created + timedelta(days=1)),
            **({"closed_at": _stamp(created + timedelta(days=2))} if state == "closed" else {}),
        })
    project.update(issues=made, merge_requests=[])
    return {**{k: v for k, v in demo.items() if k != "_about"}, "projects": [project]}
