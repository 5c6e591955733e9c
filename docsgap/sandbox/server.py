"""The loopback sandbox server: one ThreadingHTTPServer with Discourse under `/forum`, GitLab
under `/gitlab` and an inspection/fault API under `/_sandbox`; `Sandbox` is its Python handle."""

from __future__ import annotations

import copy
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from docsgap.sandbox import control, discourse, gitlab, seed
from docsgap.sandbox.discourse import ForumSettings
from docsgap.sandbox.discourse.queue import review as review_queued
from docsgap.sandbox.faults import Fault, FaultBook, describe, respond
from docsgap.sandbox.gitlab import people
from docsgap.sandbox.httpd import Handler, Server, Server6, is_loopback
from docsgap.sandbox.snapshot import snapshot
from docsgap.sandbox.wire import (
    JSON,
    Request,
    Response,
    iso,
    json_response,
    text_response,
)

log = logging.getLogger(__name__)

SANDBOX_GITLAB_TOKEN = "glpat-sandbox-docsgap-bot-0001"
SANDBOX_GITLAB_READONLY_TOKEN = "glpat-sandbox-readonly-0002"
"""A `read_api` token: reads work, writes get GitLab's 403 `insufficient_scope`."""
SANDBOX_CI_JOB_TOKEN = "glcbt-sandbox-ci-job-0003"
"""A CI job token (`JOB-TOKEN` header): accepted by the package registry only."""
SANDBOX_DISCOURSE_API_KEY = "sandbox0docsgap0discourse0api0key0000000000000000000000000001"
SANDBOX_DISCOURSE_API_USERNAME = "docsgap-bot"
"""A member (trust level 2, not staff) in the `docs-team` group."""
SANDBOX_DISCOURSE_ADMIN_USERNAME = "system"
"""An admin: with the all-users key, reads as staff do (deleted topics, every category)."""
SANDBOX_DISCOURSE_GRANULAR_KEY = "sandbox0docsgap0granular0api0key00000000000000000000000000002"
"""docsgap-bot's granular key: `topics:read` and `topics:write` only."""
SANDBOX_PROJECT = "gitlab-org/gitlab"
_CREDENTIALS = frozenset({"api-key", "private-token", "job-token", "authorization"})
"""Request headers that carry a key or token (the request log says whether one came)."""
Clock = Callable[[], float]



class Sandbox:
    """A loopback Discourse + GitLab speaking the subsets docsgap uses, seeded with `data`
    (default: the shipped demo). The socket is bound on construction (so `base_url` is known
    and seeded links can point at it); `start()` serves from a daemon thread.

    `now` is the clock (epoch seconds) behind timestamps and rate limits; tests pass a fake.
    `admin_api_per_minute` turns on Discourse's shared admin-key bucket (real sites: 60); it is
    off by default so the demo never sleeps. `discourse_limits` turns on every Discourse limit
    at a real site's values (that bucket, the create-post intervals, the one-minute anonymous
    cache). `login_required` makes the forum refuse anonymous requests (403). `forum_path` is where
    Discourse lives: `/forum` (a subfolder install) or `""` (the root, as forum.gitlab.com;
    GitLab and the control API keep their prefixes). `skip_waits` moves the clock past every
    wait a forum 429 asks for, as if the client had waited (for tests whose clients do not
    sleep, forked children included). `allow_remote` permits a non-loopback `host`.
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        now: Clock = time.time,
        admin_api_per_minute: int | None = None,
        discourse_limits: bool = False,
        forum_path: str = "/forum",
        skip_waits: bool = False,
        allow_remote: bool = False,
        login_required: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to serve the sandbox on non-loopback host {host!r}")
        given = dict(data) if data is not None else {}
        if "forum" not in given or "gitlab" not in given:
            demo = seed.load_demo_data()
            given = {"forum": given.get("forum", demo["forum"]),
                     "gitlab": given.get("gitlab", demo["gitlab"])}
        self._data: JSON = given
        self._clock = now
        self._skip_waits = skip_waits
        self._skipped = 0.0
        self._now: Clock = lambda: self._clock() + self._skipped
        self._admin_limit = admin_api_per_minute
        self._discourse_limits = discourse_limits
        self._login_required = login_required
        self._forum_path = forum_path.rstrip("/")
        self._lock = threading.RLock()
        self._server = (Server6 if ":" in host else Server)((host, port), Handler)
        self._server.sandbox = self
        bound_port = self._server.server_address[1]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
        self._base_url = f"http://{shown}:{bound_port}"
        self._thread: threading.Thread | None = None
        self.on_request: Callable[[JSON], None] | None = None
        """Called (under the lock) after each API request is served and before its answer is
        sent: crash tests kill the client there, after the server applied the request."""
        try:
            self.reset()
        except ValueError:
            self._server.server_close()
            raise

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name="docsgap-sandbox", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop()` (or Ctrl-C)."""
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return self._base_url

    @property
    def forum_url(self) -> str:
        """The Discourse host for pydiscourse: `{base_url}/forum` (or `{base_url}`)."""
        return f"{self._base_url}{self._forum_path}"

    @property
    def gitlab_url(self) -> str:
        """The GitLab URL for python-gitlab: `{base_url}/gitlab` (API at `/gitlab/api/v4`)."""
        return f"{self._base_url}/gitlab"

    # --- Python-level control (same as /_sandbox/) -------------------------------------------

    def reset(self) -> None:
        """Reload the seed: forget every write, fault, logged request and skipped wait."""
        places = {"forum_url": self.forum_url, "gitlab_url": self.gitlab_url}
        with self._lock:
            self._skipped = 0.0
            try:
                seed.check(self._data)
                forum = seed.build_forum(self._data["forum"], places, self._forum_path)
                gitlab_state = seed.build_gitlab(self._data["gitlab"], places)
            except KeyError as exc:
                raise seed.SeedError(f"invalid sandbox data: missing key {exc}") from exc
            except (TypeError, ValueError, AttributeError) as exc:
                raise seed.SeedError(f"invalid sandbox data: {exc}") from exc
            self.forum, self.gitlab = forum, gitlab_state
            if self._discourse_limits:
                limits = ForumSettings.discourse()
                for name in ("admin_api_per_minute", "create_post_interval",
                             "new_user_create_post_interval", "anon_cache_seconds"):
                    setattr(self.forum.settings, name, getattr(limits, name))
            if self._admin_limit is not None:
                self.forum.settings.admin_api_per_minute = self._admin_limit
            if self._login_required:
                self.forum.settings.login_required = True
            self.faults = FaultBook()
            self._log: list[JSON] = []

    @property
    def forum_settings(self) -> ForumSettings:
        """Mutable forum site settings (post length, duplicate window, rate limits)."""
        return self.forum.settings

    def add_fault(
        self,
        service: str,
        *,
        status: int = 503,
        method: str | None = None,
        path_regex: str = "",
        count: int | None = 1,
        wait_seconds: int | None = None,
        after: int = 0,
        kind: str | None = None,
        delay: float | None = None,
    ) -> Fault:
        """Make the next `count` (`None`: every) matching requests fail with the real error
        shape of `service` ("forum" or "gitlab"): `status` 429 carries wait hints
        (`wait_seconds`), 5xx error pages; `kind` picks a variant (see `faults.KINDS`:
        e.g. forum `ip`/`search` 429s, gitlab `app` 429, `offset_cap` 405, `timeout`, `slow`,
        `disconnect`). `path_regex` is searched in the path below the service prefix plus
        query; `after` lets that many matching requests through first."""
        spec: JSON = {"service": service, "status": status, "method": method,
                      "path_regex": path_regex, "count": count, "wait_seconds": wait_seconds,
                      "after": after, "kind": kind, "delay": delay}
        if kind in ("disconnect", "timeout", "slow"):
            spec.pop("status")
        with self._lock:
            return self.faults.add(spec)

    def add_fault_spec(self, spec: Mapping[str, Any]) -> Fault:
        """`add_fault` from a JSON description (what `POST /_sandbox/faults` takes)."""
        with self._lock:
            return self.faults.add(dict(spec))

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self.faults.clear()

    def faults_json(self) -> list[Any]:
        """The active faults as JSON."""
        with self._lock:
            return describe(self.faults.faults)

    def now(self) -> float:
        """The sandbox clock (epoch seconds)."""
        return self._now()

    @property
    def project(self) -> str:
        """The GitLab project docsgap files issues in (the first seeded one)."""
        with self._lock:
            first = min(self.gitlab.projects)
            return str(self.gitlab.projects[first]["path_with_namespace"])

    # --- the humans on either side (same as /_sandbox/gitlab/... and /_sandbox/forum/...) --

    def close_issue(self, iid: int, *, labels: tuple[str, ...] | list[str] = (),
                    username: str | None = None, project: str | None = None,
                    duplicate_of: int | None = None) -> JSON:
        """Close issue `iid` as the docs team (default user: the project owner), adding
        `labels` first, e.g. `("won't do",)` for a declined gap, or as a duplicate of issue
        `duplicate_of`."""
        with self._lock:
            return people.close_issue(
                self.gitlab, self.gitlab.project(project or self.project), iid, self.now(),
                self.gitlab_url, labels=labels, username=username, duplicate_of=duplicate_of)

    def reopen_issue(self, iid: int, *, username: str | None = None,
                     project: str | None = None) -> JSON:
        """Reopen issue `iid`."""
        with self._lock:
            return people.reopen_issue(
                self.gitlab, self.gitlab.project(project or self.project), iid, self.now(),
                self.gitlab_url, username=username)

    def merge_merge_request(self, iid: int, *, username: str | None = None,
                            project: str | None = None) -> JSON:
        """Merge MR `iid` into its target branch (closing the issues it `Closes`)."""
        with self._lock:
            return people.merge_merge_request(
                self.gitlab, self.gitlab.project(project or self.project), iid, self.now(),
                self.gitlab_url, username=username)

    def state(self) -> JSON:
        """A JSON-able snapshot of everything (what `GET /_sandbox/state` returns)."""
        with self._lock:
            data = snapshot(self.forum, self.gitlab, self.forum_url, self.gitlab_url, self._log)
            data["faults"] = describe(self.faults.faults)
            return copy.deepcopy(data)

    def requests_log(self) -> list[JSON]:
        """Every request served so far: service, method, path (with query), status, whether
        it carried a key or token (`keyed`) and whether the forum's anonymous cache answered
        it (`cached`)."""
        with self._lock:
            return copy.deepcopy(self._log)

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self._lock:
            self._log.clear()

    def add_post(self, topic_id: int, raw: str, *, username: str,
                 reply_to_post_number: int | None = None) -> JSON:
        """Add a post as `username` (no API rules: closed topics and rate limits don't apply).
        Returns `{id, topic_id, post_number}`."""
        with self._lock:
            topic = self.forum.topics[topic_id]
            user = self.forum.user(username)
            if user is None:
                raise KeyError(username)
            post = self.forum.add_post(topic, user, raw, self._now(),
                                       reply_to=reply_to_post_number)
            return {"id": post["id"], "topic_id": topic_id, "post_number": post["post_number"]}

    def moderate_post(self, post_id: int, action: str, *, by: str = "claire_mod") -> None:
        """`delete` (as moderator `by`), `hide` (after flags) or `withdraw` (its author
        deletes it) a post."""
        with self._lock:
            if action == "delete":
                self.forum.delete_post(post_id, by, self._now())
            elif action == "hide":
                self.forum.hide_post(post_id)
            elif action == "withdraw":
                self.forum.withdraw_post(post_id)
            else:
                raise ValueError(f"unknown moderation {action!r}")

    def review_post(self, pending_id: int, verdict: str) -> JSON:
        """A moderator's `approve` or `reject` of a post in the approval queue."""
        with self._lock:
            return review_queued(self.forum, pending_id, verdict, self._now())

    def move_posts(self, topic_id: int, post_ids: list[int], destination: int, *,
                   by: str = "claire_mod") -> None:
        """A moderator moves posts into an existing topic (a merge when all are moved)."""
        with self._lock:
            self.forum.move_posts(topic_id, post_ids, destination, by, self._now())

    def edit_post(self, post_id: int, raw: str) -> None:
        """Its author edits a post (a new version; the id stays)."""
        with self._lock:
            self.forum.edit_post(post_id, raw, self._now())

    def update_topic(self, topic_id: int, **fields: Any) -> None:
        """Change topic flags (`closed`, `archived`, `visible`, `tags`, `category_id`, ...)."""
        with self._lock:
            topic = self.forum.topics[topic_id]
            unknown = set(fields) - set(topic)
            if unknown:
                raise KeyError(", ".join(sorted(unknown)))
            topic.update(fields)

    # --- HTTP ------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Serve one HTTP request (called from the handler threads)."""
        split = urlsplit(target)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        host = next((v for k, v in headers.items() if k.lower() == "host"), "")
        root = f"http://{host}" if host else self._base_url
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            with self._lock:
                return control.handle(self, method, path, body)
        service, prefix = self._service_of(path)
        if service is None:
            return text_response(404, "Not found: the sandbox serves /forum, /gitlab, /_sandbox\n")
        rel = path[len(prefix):] or "/"
        req = Request(method.upper(), rel, query, headers, body, host)
        relative_target = rel + (f"?{split.query}" if split.query else "")
        with self._lock:
            now = self._now()
            fault = self.faults.take(service, req.method, relative_target)
            if fault is None or fault.kind == "slow":
                response = self._dispatch(service, req, now, root)
                response.delay = fault.delay if fault else 0.0
            else:
                response = respond(fault, now)
            faulted = fault is not None
            if self._skip_waits and service == "forum" and response.status == 429:
                self._skipped += float(response.headers.get("Retry-After") or 0) + 1.0
            entry = {"at": iso(now), "service": service, "method": req.method,
                     "path": relative_target, "status": response.status, "fault": faulted,
                     "keyed": any(k.lower() in _CREDENTIALS for k in headers),
                     "cached": response.headers.get("X-Discourse-Cached") == "true"}
            self._log.append(entry)
            if self.on_request is not None:
                self.on_request(entry)
        return response

    def _service_of(self, path: str) -> tuple[str | None, str]:
        """(service, its path prefix): GitLab under `/gitlab`, the forum under `forum_path`
        (everything else when that is the root)."""
        if path == "/gitlab" or path.startswith("/gitlab/"):
            return "gitlab", "/gitlab"
        forum = self._forum_path
        if not forum or path == forum or path.startswith(f"{forum}/"):
            return "forum", forum
        return None, ""

    def _dispatch(self, service: str, req: Request, now: float, root: str) -> Response:
        try:
            if service == "forum":
                return discourse.handle(self.forum, req, now, root)
            return gitlab.handle(self.gitlab, req, now, self.gitlab_url, f"{root}/gitlab")
        except Exception:  # noqa: BLE001 - a sandbox bug must answer 500, not kill the thread
            log.error("sandbox error on %s %s\n%s", req.method, req.path, traceback.format_exc())
            return json_response(500, {"message": "500 Internal Server Error (sandbox bug)"})
