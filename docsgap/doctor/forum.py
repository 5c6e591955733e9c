"""The forum checks: the site answers, the API key is valid and acts as the bot user, and
the bot can post. A 429 leaves a check undecided (WARN), never failed."""

from __future__ import annotations

from collections.abc import Callable

from docsgap.config import Config
from docsgap.doctor.report import CheckRun, Status
from docsgap.errors import AuthError, RateLimitedError
from docsgap.forum.interface import ForumProbe, ForumUser

API_KEY_FIX = (
    "create an API key for the bot user (Discourse admin > API > New key) and set "
    "DOCSGAP_DISCOURSE_API_KEY and DOCSGAP_DISCOURSE_API_USERNAME"
)

FORUM_CHECKS = ("forum url", "forum api key", "forum bot user")


def forum_checks(run: CheckRun, cfg: Config, build: Callable[[Config], ForumProbe]) -> None:
    """Add the FORUM_CHECKS to `run`; a failed one skips those that need it."""
    probe = run.build(FORUM_CHECKS, "needs a usable forum configuration", lambda: build(cfg))
    if probe is None:
        return

    closed: list[bool] = []

    def site() -> tuple[Status, str, str | None]:
        info = probe.site()
        closed.append(info.login_required)
        about = ", ".join(x for x in (info.title and f'"{info.title}"', info.version) if x)
        shown = f"{info.endpoint}: {about}" if about else info.endpoint
        return Status.OK, f"{cfg.forum.url} answers ({shown})", None

    if run.attempt("forum url", unless_limited(site)) is Status.FAIL:
        run.skip(FORUM_CHECKS[1:], "the forum does not answer")
        return
    username = cfg.forum.api_username
    if not cfg.forum.api_key:
        if any(closed):
            run.add("forum api key", Status.FAIL, "DOCSGAP_DISCOURSE_API_KEY is not set and "
                    "the forum requires login: docsgap cannot read it, not even in a dry run",
                    API_KEY_FIX)
            run.skip(["forum bot user"], "needs an API key: the forum requires login")
            return
        if run.read_only:
            run.add("forum api key", Status.SKIP,
                    "not set: a dry run reads the public forum anonymously")
        else:
            run.add("forum api key", Status.FAIL, "DOCSGAP_DISCOURSE_API_KEY is not set",
                    API_KEY_FIX)
    else:
        acting: list[ForumUser] = []

        def key() -> tuple[Status, str, str | None]:
            try:
                who = probe.session_user()
            except AuthError:
                # A granular key is refused /session/current.json: try what it is for.
                if any(closed):
                    try:
                        topic = probe.key_reads_stream()
                    except AuthError:
                        return (Status.FAIL, "a granular key (refused /session/current.json) "
                                "that cannot read /posts.json and topics, and the forum requires "
                                "login, so docsgap cannot read them anonymously either",
                                "give the key the posts:list and topics:read scopes (Discourse "
                                "3.1 and later), or use a key with global scope")
                    return (Status.OK, "valid granular key: it reads /posts.json and topics "
                            f"(tried topic {topic}), as this forum requires login; whether it "
                            "may reply (topics:write) only a reply shows", None)
                topic = probe.key_reads_topic()
                return (Status.OK, f"valid granular key: it reads topics (tried topic {topic}); "
                        "whether it may reply (topics:write) only a reply shows", None)
            if who is None:
                return Status.FAIL, "the forum treats the API key as anonymous", API_KEY_FIX
            acting.append(who)
            if username and who.username.lower() != username.lower():
                return (Status.FAIL, f"the key acts as {who.username}, not {username}",
                        "set DOCSGAP_DISCOURSE_API_USERNAME to the key's user")
            return Status.OK, f"valid; acts as {who.username}", None

        if run.attempt("forum api key", unless_limited(key)) is Status.FAIL:
            run.skip(["forum bot user"], "needs a valid API key")
            return
        username = username or (acting[0].username if acting else None)
    if not username:
        run.add("forum bot user", Status.SKIP, "no bot user configured (dry run)")
        return
    name = username
    run.attempt("forum bot user", unless_limited(
        lambda: _bot_user(probe.user(name), name, run.read_only)))


_Probe = Callable[[], tuple[Status, str, str | None]]


def unless_limited(check: _Probe) -> _Probe:
    """A forum check that a 429 leaves undecided (WARN) instead of failed: the site-wide API
    bucket is shared with every other integration, and a limit is no credential problem (so
    `run --apply`'s preflight is not stopped by one)."""
    def checked() -> tuple[Status, str, str | None]:
        try:
            return check()
        except RateLimitedError as exc:
            return Status.WARN, f"not checked: {exc}", "run `docsgap doctor` again in a minute"
    return checked


def _bot_user(user: ForumUser | None, name: str, read_only: bool) -> tuple[Status, str, str | None]:
    if user is None:
        return (Status.FAIL, f"no forum user {name!r}",
                "create the bot user or fix DOCSGAP_DISCOURSE_API_USERNAME")
    if user.suspended or user.silenced or not user.active:
        state = "suspended" if user.suspended else "silenced" if user.silenced else "inactive"
        return (Status.FAIL if not read_only else Status.WARN,
                f"{user.username} is {state} and cannot post",
                "lift the suspension/silence in the user's admin page")
    if not user.staff and (user.trust_level or 0) < 1:
        return (Status.WARN,
                f"{user.username} exists but is trust level {user.trust_level or 0}, not staff: "
                "Discourse's new-user limits refuse its replies from the third on (a link to "
                "a host linked in 2 earlier posts; each reply links gitlab.com and "
                "docs.gitlab.com), and over 2 links or mentions a post, 3 replies a topic, "
                "10 replies a day (stock settings)",
                "raise its trust level to 1 (2 also lifts the first-day cap of 10 replies)")
    rank = "staff" if user.staff else f"trust level {user.trust_level}"
    if not user.staff and (user.trust_level or 0) < 2 and user.post_count == 0:
        rank += ("; it has never posted, so Discourse caps its replies at 10 in its first 24 "
                 "hours of posting (later runs post the rest; trust level 2 lifts the cap)")
    return Status.OK, f"{user.username} exists and can post ({rank})", None
