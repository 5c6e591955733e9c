"""Shared fixtures: paths to the optional ../shared data, an in-memory state store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docsgap.sandbox import Sandbox
from docsgap.state import StateStore

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the repo; tests that need it skip where it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    """A fresh on-disk state store."""
    return StateStore(tmp_path / "state.db")


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    """The module's loopback sandbox (Discourse + GitLab), serving on a free port."""
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(server: Sandbox) -> Sandbox:
    """The module's sandbox, back to the demo seed (no writes, faults or request log)."""
    server.reset()
    return server


@pytest.fixture(autouse=True)
def _no_personal_python_gitlab_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's ~/.python-gitlab.cfg must not leak into tests (docsgap falls back to it)."""
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(tmp_path / "no-python-gitlab.cfg"))
