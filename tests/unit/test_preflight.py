"""What a plan's writes need, and the preflight's verdict from doctor's probes (fakes here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from docsgap.config import Config, ForumConfig, GitLabConfig, PolicyConfig
from docsgap.doctor.preflight import Needs, Preflight, PreflightError, needs_of
from docsgap.errors import AuthError
from docsgap.forum.interface import ForumUser, SiteInfo
from docsgap.models import Action, ActionKind
from docsgap.tracker.interface import ProjectInfo, TokenInfo

AUTO = PolicyConfig(open_issue="auto", link_existing="auto", reply="auto", followup="auto")
ISSUE = Action(ActionKind.OPEN_ISSUE, "issue:a", "why", (1,))
REPLY = Action(ActionKind.REPLY, "reply:a", "why", (1,), depends_on="issue:a")
NOTE = Action(ActionKind.LINK_EXISTING, "note:b", "score in the review band: ...", (2,),
              target_url="https://gitlab.test/g/p/-/issues/9")
REPLY_B = Action(ActionKind.REPLY, "reply:b", "why", (2,), depends_on="note:b")


def test_needs_count_only_what_will_write() -> None:
    cfg = Config(policy=AUTO)
    needs = needs_of([ISSUE, REPLY, NOTE, REPLY_B], cfg, {})
    # The note is in the review band, so it and the reply waiting on it write nothing.
    assert needs == Needs(forum=("1 reply",), gitlab=("1 new issue",), labelled=True)
    assert not needs_of([ISSUE, REPLY], Config(), {})  # policy review: nothing writes
    assert needs_of([ISSUE, REPLY], Config(), {"issue:a": "accept"}).gitlab == ("1 new issue",)
    assert not needs_of([ISSUE, REPLY], cfg, {}, done={"issue:a", "reply:a"})


class Forum:
    def __init__(self, who: ForumUser | None) -> None:
        self.who = who

    def site(self) -> SiteInfo:
        return SiteInfo("/about.json")

    def session_user(self) -> ForumUser | None:
        return self.who

    def user(self, username: str) -> ForumUser | None:
        return self.who


class Tracker:
    url = "https://gl.test"

    def __init__(self, scopes: tuple[str, ...]) -> None:
        self.scopes = scopes
        self.label_lookups = 0

    def answers(self) -> str:
        return "GitLab 17.0"

    def current_user(self) -> str:
        if not self.scopes:
            raise AuthError("401 Unauthorized", status=401)
        return "docsgap-bot"

    def token_info(self) -> TokenInfo | None:
        return TokenInfo("t", self.scopes)

    def project(self) -> ProjectInfo:
        return ProjectInfo("g/p", "https://gitlab.test/g/p", True, 30)

    def missing_labels(self, names: Sequence[str]) -> list[str]:
        self.label_lookups += 1
        return list(names)


def config(key: str | None = "k", token: str | None = "t") -> Config:
    return Config(forum=ForumConfig(url="https://forum.test", api_username="docsgap-bot",
                                    api_key=key),
                  gitlab=GitLabConfig(url="https://gitlab.test", project="g/p", token=token))


BOT = ForumUser("docsgap-bot", trust_level=2)
BOTH = Needs(forum=("1 reply",), gitlab=("1 new issue",))


def test_working_credentials_pass_and_labels_never_block() -> None:
    tracker = Tracker(("api",))
    Preflight(lambda c: Forum(BOT), lambda c: tracker).check(BOTH, config())
    assert tracker.label_lookups == 0  # a request per label, and GitLab creates them on use


@pytest.mark.parametrize(("cfg", "forum", "scopes", "says"), [
    (config(key=None), BOT, ("api",), "DOCSGAP_DISCOURSE_API_KEY is not set"),
    (config(), None, ("api",), "treats the API key as anonymous"),
    (config(), BOT, ("read_api",), "needs api"),
    (config(token=None), BOT, ("api",), "DOCSGAP_GITLAB_TOKEN is not set"),
    (config(), BOT, (), "401"),
])
def test_each_missing_credential_stops_the_run(cfg: Config, forum: ForumUser | None,
                                               scopes: tuple[str, ...], says: str) -> None:
    with pytest.raises(PreflightError) as caught:
        Preflight(lambda c: Forum(forum), lambda c: Tracker(scopes)).check(BOTH, cfg)
    assert caught.value.exit_code == 5
    assert says in str(caught.value)


def test_only_the_services_written_to_are_checked() -> None:
    def no_forum(cfg: Config) -> Forum:
        raise AssertionError("the forum was probed for a GitLab-only plan")

    Preflight(no_forum, lambda c: Tracker(("api",))).check(
        replace(BOTH, forum=()), config(key=None))
