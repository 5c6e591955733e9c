"""One loopback sandbox per test module (reset before each test) and the real adapters
pointed at it."""

from __future__ import annotations

import pytest

from docsgap.forum.discourse import DiscourseForum
from docsgap.sandbox import (
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_GITLAB_TOKEN,
    SANDBOX_PROJECT,
    Sandbox,
)
from docsgap.tracker.gitlab import GitLabTracker


@pytest.fixture
def sleeps() -> list[float]:
    """Waits the forum adapter asked for, recorded instead of slept."""
    return []


@pytest.fixture
def forum(sandbox: Sandbox, sleeps: list[float]) -> DiscourseForum:
    """DiscourseForum with the sandbox's admin key, acting as docsgap-bot."""
    return DiscourseForum(
        sandbox.forum_url, SANDBOX_DISCOURSE_API_USERNAME, SANDBOX_DISCOURSE_API_KEY,
        timeout=5, sleep=sleeps.append,
    )


@pytest.fixture
def gl_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """python-gitlab's retry sleeps, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr("gitlab.utils.time.sleep", recorded.append)
    return recorded


@pytest.fixture
def tracker(sandbox: Sandbox, gl_sleeps: list[float]) -> GitLabTracker:
    """GitLabTracker with the bot's `api` token; small pages so pagination is exercised."""
    return GitLabTracker(sandbox.gitlab_url, SANDBOX_PROJECT, token=SANDBOX_GITLAB_TOKEN,
                         per_page=5, timeout=5)


def paths(sandbox: Sandbox, service: str, method: str = "GET") -> list[str]:
    """Paths (with query) the sandbox served for `service`, in order."""
    return [r["path"] for r in sandbox.requests_log()
            if r["service"] == service and r["method"] == method]
