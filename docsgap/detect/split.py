"""The frozen train / dev / test split of the labelled detection data, by site.

Every labelled message has a `source_url`; its **site** is the GitHub repository owner
(`github.com/<owner>`) or, elsewhere, the registrable domain (`community.st.com` and
`qa-community.st.com` are both `st.com`), with known mirrors folded into the site they copy. The
split of a site is a stable hash of its key: `sha256("docsgap-detect-split-13:" + site)`, first
8 hex digits as an integer, modulo 10 -> 0-5 train, 6-7 dev, 8-9 test. No site is in two splits,
a site keeps its split as the corpus grows, and new sites fall where their hash says.

The salt's number (13) was fixed before any model was trained: it is the first of 0, 1, 2, ...
whose split puts at least 15% of the forum posts, of the forum docs gaps and of the tracker docs
gaps into each of dev and test (the forum side is a few large sites, so most salts leave dev or
test with one or two forum gaps). It is never changed to improve a figure.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

SALT = "docsgap-detect-split-13:"
SPLITS = ("train", "dev", "test")
Split = Literal["train", "dev", "test"]
CORPUS_FILES = (
    "eval/detect-dev.jsonl",
    "corpus/detect-train-tracker.jsonl",
    "corpus/detect-train-forum.jsonl",
)
"""The labelled detection files under `../shared`, all of them split by site."""

_MIRRORS = {"imathworks.com": "mathworks.com", "impb.uk": "apple.com"}
"""Sites that copy another site's threads (MATLAB Answers, Apple developer forums)."""
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu"})


def site_key(url: str) -> str:
    """The site a message comes from: `github.com/<owner>`, else the registrable domain."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host in ("github.com", "gitlab.com"):
        owner = next((s for s in parts.path.split("/") if s), "")
        return f"{host}/{owner.lower()}"
    labels = host.split(".")
    # "example.co.uk" keeps three labels; "forum.example.com" keeps two.
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    domain = ".".join(labels[-keep:])
    return _MIRRORS.get(domain, domain)


def split_of(site: str) -> Split:
    """The split a site belongs to (stable: a hash of the site key)."""
    bucket = int(hashlib.sha256(f"{SALT}{site}".encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 6 else "dev" if bucket < 8 else "test"


def source_of(kind: str | None) -> str:
    """`forum` for forum posts, `tracker` for issue-tracker openers and comments."""
    return "forum" if (kind or "").lower() == "forum" else "tracker"


def corpus_paths(shared: Path) -> list[Path]:
    """The labelled detection files present under a `shared` directory."""
    return [shared / name for name in CORPUS_FILES if (shared / name).is_file()]


def default_shared() -> Path:
    """`../shared` from the working directory (a checkout beside the shared data)."""
    return Path.cwd().parent / "shared"
