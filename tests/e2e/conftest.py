"""End-to-end tests run against a sandbox with Discourse's limits on, as forum.gitlab.com has
them: the shared 60-a-minute admin-API bucket and the create-post interval (5 s, 30 s at trust
level 0). Nobody really waits: the forum adapter's waits are recorded, not slept, and the
sandbox's clock jumps past each wait it asks for (forked CLI children included)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest

from docsgap.sandbox import Sandbox


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    """The module's loopback sandbox with every Discourse limit on."""
    with Sandbox(discourse_limits=True, skip_waits=True) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def forum_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Seconds the forum adapter waited (for 429s), recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr("docsgap.forum.discourse._sleep", waited.append)
    return waited


@pytest.fixture(autouse=True)
def pydiscourse_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Seconds pydiscourse's own 429 loop waited, recorded instead of slept. Only a test's own
    DiscourseClient meets it (docsgap's adapter answers 429s before pydiscourse sees them), and
    the sandbox's clock has already jumped past the wait: sleeping it only cost the suite 5 s."""
    waited: list[float] = []
    sleep: Callable[[float], None] = waited.append
    monkeypatch.setattr("pydiscourse.client.time", SimpleNamespace(sleep=sleep, time=time.time))
    return waited
