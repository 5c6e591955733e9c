"""The docsgap error tree and the documented process exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; the README table is checked against this enum by a test."""

    OK = 0
    """Success, including "nothing to do"."""
    INTERNAL = 1
    """Unexpected internal error (a bug): please report it with `--debug` output."""
    USAGE = 2
    """Bad command-line usage (unknown option, missing argument)."""
    CONFIG = 3
    """Invalid configuration (file, environment variable or flag)."""
    RULES = 4
    """Invalid rules or templates; every problem is printed as file:line: message."""
    AUTH = 5
    """Discourse or GitLab refused the credentials or the permission."""
    UPSTREAM = 6
    """Discourse or GitLab unavailable, rate limit exhausted, or a malformed payload."""
    PARTIAL = 7
    """Some actions failed; the others were recorded. A rerun is safe and resumes."""
    CHECK_FAILED = 8
    """A check did not pass: eval below --min-f1, rules examples failing, doctor findings."""
    STATE = 9
    """The local state file cannot be used (corrupt, empty, not writable, written by a newer
    docsgap, or in use by another run); it is left as it was and nothing was written to GitLab
    or the forum."""
    INTERRUPTED = 130
    """Interrupted (Ctrl-C); state written so far is kept."""
    OUTPUT_CLOSED = 141
    """The reader of the output went away (`docsgap report | head`): stopped there, as a
    process killed by SIGPIPE would (128 + 13); state written so far is kept."""


class DocsgapError(Exception):
    """Base of every error docsgap raises on purpose; the CLI turns it into one line."""

    exit_code: ExitCode = ExitCode.INTERNAL
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class UsageError(DocsgapError):
    """A command-line argument cannot be used (a file that is not UTF-8, a malformed patch)."""

    exit_code = ExitCode.USAGE


class ConfigError(DocsgapError):
    """The configuration is invalid; the message names where (file:key, env var or flag)."""

    exit_code = ExitCode.CONFIG


class RulesError(DocsgapError):
    """One or more rules files are invalid; `problems` holds every `file:line: message`."""

    exit_code = ExitCode.RULES

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        first = problems[0] if problems else "invalid rules"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)


class StateError(DocsgapError):
    """The local SQLite state cannot be opened, migrated or locked; the file is left as it was."""

    exit_code = ExitCode.STATE


class RemoteError(DocsgapError):
    """Base of errors from a remote service (forum or tracker)."""

    exit_code = ExitCode.UPSTREAM
    service = "remote"

    def __init__(
        self, message: str, *, status: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class AuthError(RemoteError):
    """401/403: the token is wrong, expired, or lacks a scope or permission."""

    exit_code = ExitCode.AUTH


class NotFoundError(RemoteError):
    """404/410: the topic, project, issue or file does not exist (or is hidden)."""


class ProjectNotFoundError(NotFoundError):
    """GitLab answered 404 "Project Not Found" for the configured project path. Almost always
    a mistyped `gitlab.project` (or `docs.projects`), so it is a configuration error (exit 3)
    naming the path; a private project answers the same to a token whose user cannot see it.
    Still a `NotFoundError`, so code that treats a 404 as "nothing there" is unchanged."""

    exit_code = ExitCode.CONFIG


class RateLimitedError(RemoteError):
    """429 after retries, or the run's request budget is spent; the next run resumes."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = 429
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class RepliesHeldError(RateLimitedError):
    """The forum rate limits the bot's posts for longer than the run may wait (Discourse's
    first-day replies cap): this post and the run's later ones are held, not sent; a later
    run sends them. `retry_after`: seconds until the limit lifts, when the forum said."""


class UnavailableError(RemoteError):
    """5xx, timeout or connection failure."""


class PayloadError(RemoteError):
    """The service answered 2xx with a body docsgap cannot read (wrong shape or type)."""


class WriteRejectedError(RemoteError):
    """The service refused a write for a reason tied to the item (422, closed topic, ...)."""
