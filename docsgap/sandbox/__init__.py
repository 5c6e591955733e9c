"""A loopback HTTP sandbox speaking the Discourse and GitLab API subsets docsgap uses, seeded
with a demo forum and GitLab project (see `demo_forum.json` / `demo_gitlab.json`, `_about`)."""

from __future__ import annotations

from docsgap.sandbox.discourse import ForumSettings
from docsgap.sandbox.faults import Fault
from docsgap.sandbox.httpd import is_loopback
from docsgap.sandbox.seed import load_demo_data
from docsgap.sandbox.server import (
    SANDBOX_CI_JOB_TOKEN,
    SANDBOX_DISCOURSE_ADMIN_USERNAME,
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_DISCOURSE_GRANULAR_KEY,
    SANDBOX_GITLAB_READONLY_TOKEN,
    SANDBOX_GITLAB_TOKEN,
    SANDBOX_PROJECT,
    Sandbox,
)

__all__ = [
    "SANDBOX_CI_JOB_TOKEN",
    "SANDBOX_DISCOURSE_ADMIN_USERNAME",
    "SANDBOX_DISCOURSE_API_KEY",
    "SANDBOX_DISCOURSE_API_USERNAME",
    "SANDBOX_DISCOURSE_GRANULAR_KEY",
    "SANDBOX_GITLAB_READONLY_TOKEN",
    "SANDBOX_GITLAB_TOKEN",
    "SANDBOX_PROJECT",
    "Fault",
    "ForumSettings",
    "Sandbox",
    "is_loopback",
    "load_demo_data",
]
