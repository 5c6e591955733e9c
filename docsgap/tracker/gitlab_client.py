"""What every python-gitlab adapter shares: building the client and turning python-gitlab and
requests errors into docsgap's errors (one wording, one exit code per meaning)."""

from __future__ import annotations

import configparser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gitlab
import gitlab.config
import requests
from gitlab.exceptions import GitlabAuthenticationError, GitlabError, RedirectError

from docsgap import __version__
from docsgap.errors import (
    AuthError,
    ConfigError,
    DocsgapError,
    NotFoundError,
    PayloadError,
    ProjectNotFoundError,
    RateLimitedError,
    RemoteError,
    UnavailableError,
    WriteRejectedError,
)

TOKEN_ARGS = {"private": "private_token", "oauth": "oauth_token", "job": "job_token"}
_BAD_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)


def make_client(
    url: str,
    *,
    token: str | None = None,
    token_kind: str = "private",
    timeout: float = 60.0,
    python_gitlab_id: str | None = None,
    python_gitlab_default: bool = False,
) -> gitlab.Gitlab:
    """A python-gitlab client: from python-gitlab's own config file when `python_gitlab_id` is
    given or `python_gitlab_default` (its default section; PYTHON_GITLAB_CFG or
    ~/.python-gitlab.cfg), else from `url` and the token."""
    if python_gitlab_id is not None or python_gitlab_default:
        try:
            return gitlab.Gitlab.from_config(python_gitlab_id)
        except (gitlab.config.ConfigError, configparser.Error, OSError) as exc:
            raise ConfigError(
                f"python-gitlab config section {python_gitlab_id or '(default)'}: {exc}",
                hint="check PYTHON_GITLAB_CFG or ~/.python-gitlab.cfg",
            ) from exc
    if token_kind not in TOKEN_ARGS:
        raise ConfigError(
            f"gitlab.token_kind = {token_kind!r}: expected one of {', '.join(TOKEN_ARGS)}"
        )
    auth: dict[str, Any] = {TOKEN_ARGS[token_kind]: token} if token else {}
    return gitlab.Gitlab(
        url.rstrip("/"),
        timeout=timeout,
        user_agent=f"docsgap/{__version__} python-gitlab/{gitlab.__version__}",
        **auth,
    )


@contextmanager
def gitlab_errors(
    doing: str,
    *,
    project: str,
    write: bool = False,
    retry_after: Callable[[], float | None] | None = None,
) -> Iterator[None]:
    """Translate python-gitlab/requests errors and malformed payloads into docsgap's, naming
    what was being done. `retry_after` reports the last rate-limit wait, for a 429."""
    try:
        yield
    except DocsgapError:
        raise
    except GitlabError as exc:
        wait = retry_after() if retry_after is not None else None
        raise translate(exc, doing, project=project, write=write, retry_after=wait) from exc
    except _BAD_URL as exc:
        raise ConfigError(f"gitlab.url is not usable: {exc}") from exc
    except requests.RequestException as exc:
        raise UnavailableError(
            f"GitLab unreachable while {doing}: {type(exc).__name__}",
            hint="check gitlab.url and the network; a rerun is safe",
        ) from exc
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        raise PayloadError(
            f"unexpected GitLab payload while {doing}: {type(exc).__name__}: {exc}"
        ) from exc


SPAM_HINT = ("nothing was saved, so a rerun cannot duplicate it: docsgap keeps the action "
             "pending and tries again on the next run. If GitLab refuses it again, reword the "
             "text (`docsgap review` edits it) or ask a GitLab administrator to trust the bot "
             "user (Admin area > Users > Trust user); a CAPTCHA cannot be solved through the API")


def said(message: Any) -> str:
    """What GitLab's error body says, in one line: `{"title": ["is too long ..."]}` becomes
    `title is too long ...`, `{"base": [...]}` and `{"error": ...}` their text."""
    if isinstance(message, dict):
        parts = []
        for key, value in message.items():
            text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(text if key in ("base", "error", "message") else f"{key} {text}")
        return "; ".join(parts)
    if isinstance(message, list):
        return "; ".join(map(str, message))
    return str(message)


def translate(exc: GitlabError, doing: str, *, project: str, write: bool = False,
              retry_after: float | None = None) -> RemoteError:
    """A python-gitlab error as the docsgap error of the same meaning."""
    code = exc.response_code
    text = said(exc.error_message)
    message = f"GitLab refused {doing} ({code}): {text}"
    if write and code in (400, 409) and "recognized as spam" in text:
        captcha = " and asks for a CAPTCHA" if code == 409 else ""
        return WriteRejectedError(f"GitLab's spam check refused {doing}{captcha} ({code}): "
                                  f"{text}", status=code, hint=SPAM_HINT)
    if isinstance(exc, GitlabAuthenticationError) or code == 401:
        return AuthError(
            f"GitLab refused the credentials while {doing} (401)",
            status=401,
            hint="check the token (DOCSGAP_GITLAB_TOKEN, or CI_JOB_TOKEN in CI): valid, "
            "not expired, with the `api` scope",
        )
    if code == 403:
        return AuthError(
            message, status=403, hint=f"the token's user lacks permission on {project}"
        )
    if code == 404 and "project not found" in str(exc.error_message).lower():
        return ProjectNotFoundError(
            f"GitLab has no project {project!r} (404 Project Not Found while {doing})",
            status=code,
            hint="check the project's path, as in its URL (gitlab.project, "
            "DOCSGAP_GITLAB_PROJECT or --project; docs.projects for `docs sync`); a private "
            "project also answers 404 when the token's user is not a member",
        )
    if code in (404, 410):
        return NotFoundError(
            f"GitLab: not found while {doing} ({exc.error_message})",
            status=code,
            hint=f"check gitlab.url and gitlab.project ({project!r}), and that the token can "
            "see the project (`docsgap doctor` checks each)",
        )
    if code == 429:
        return RateLimitedError(f"GitLab still rate limits {doing} after retries",
                                retry_after=retry_after)
    if code == 405 and "Offset pagination" in str(exc.error_message):
        return UnavailableError(
            message,
            status=405,
            hint="the list is too long for offset pagination; keyset "
            "pagination is needed (GitLab >= 18.3 for project issues)",
        )
    if code is not None and code >= 500:
        return UnavailableError(f"GitLab server error while {doing} ({code})", status=code)
    if write and code in (400, 409, 422):
        return WriteRejectedError(message, status=code)
    if isinstance(exc, RedirectError):
        return RemoteError(
            f"GitLab redirected while {doing}: {exc}",
            hint="the project moved: update gitlab.project or gitlab.url",
        )
    if code is None or 200 <= code < 300:
        return PayloadError(f"GitLab sent an unreadable answer while {doing}: {exc}")
    return RemoteError(message, status=code)
