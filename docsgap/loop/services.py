"""Build the Forum, Tracker, state and detector from a Config (one factory tests can replace)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docsgap.budget import Budget
from docsgap.config import Config, python_gitlab_config_file, require_target
from docsgap.detect import rulecache
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules, rules_digest
from docsgap.detect.ruleset import RuleSet
from docsgap.doctor.preflight import Preflight
from docsgap.forum.discourse import DiscourseForum
from docsgap.forum.discourse_checks import DiscourseChecks
from docsgap.forum.interface import Forum
from docsgap.state import StateStore
from docsgap.tracker.gitlab import GitLabTracker
from docsgap.tracker.gitlab_checks import GitLabChecks
from docsgap.tracker.interface import Tracker


def forum_probe(cfg: Config, counted: Counter[str] | None = None) -> DiscourseChecks:
    """The read-only forum probe (doctor, preflight) for `cfg`; its requests are counted in
    `counted` (a run reports them, outside its request budget: a preflight must not leave
    the writes it checks short of requests)."""
    f = cfg.forum
    count = (lambda: counted.update(("forum",))) if counted is not None else None
    return DiscourseChecks(f.url, f.api_username, f.api_key, timeout=f.timeout,
                           on_request=count)


def tracker_probe(cfg: Config) -> GitLabChecks:
    """The read-only GitLab probe (doctor, preflight) for `cfg`."""
    g = cfg.gitlab
    return GitLabChecks.build(
        g.url, g.project, token=g.token, token_kind=g.token_kind, timeout=g.timeout,
        python_gitlab_id=g.python_gitlab_id,
        # Like `run`: no docsgap token but python-gitlab's config file -> its default section.
        python_gitlab_default=not g.token and python_gitlab_config_file() is not None,
    )


class _DetectorOnDemand(Detector):
    """The Detector of the rules `load` gives, set up at its first use: compiling its gates
    costs about 0.4 s, which a run with no new post to judge (most scheduled reruns) never
    needs. `build_services` checks the rules before, unless a run already loaded the same
    ones (`rules_digest`), so bad rules still fail at once."""

    def __init__(self, load: Callable[[], RuleSet]) -> None:  # Detector.__init__ on first use
        self.__dict__["_pending"] = load

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not set yet: set them all up, once.
        load = self.__dict__.pop("_pending", None)
        if load is None:
            raise AttributeError(name)
        super().__init__(load())  # by the MRO, not the module's name `Detector`
        return getattr(self, name)


RULES_CHECKED = "rules_checked"
"""State cursor: the `rules_digest` of the last rules a run loaded without a problem."""


def _detector(config: Config, store: StateStore) -> Detector:
    """Check the rules now, unless the last run loaded exactly these (then at first use).
    Loaded rules are kept beside the state (`docsgap.detect.rulecache`) for the next run."""
    digest = rules_digest(config.rules_dirs)
    cache = rulecache.cache_file(Path(config.state_path))
    if store.cursor(RULES_CHECKED) == digest:
        return _DetectorOnDemand(lambda: rulecache.load_cached(cache, config.rules_dirs,
                                                               load_rules))
    ruleset = rulecache.load_cached(cache, config.rules_dirs, load_rules)
    store.set_cursor(RULES_CHECKED, digest)
    return _DetectorOnDemand(lambda: ruleset)


@dataclass
class Services:
    """Everything a command needs, built once."""

    forum: Forum
    tracker: Tracker
    store: StateStore
    detector: Detector
    budget: Budget
    preflight: Preflight = field(default_factory=lambda: Preflight(forum_probe, tracker_probe))
    """Checks the credentials a plan's writes need before the first one."""
    probed: Counter[str] = field(default_factory=Counter)
    """Requests the preflight's forum probe made (outside `budget`), per service."""


def build_services(config: Config) -> Services:
    """Real adapters over pydiscourse and python-gitlab, sharing one request budget. Refuses
    (ConfigError) when the configuration never named the forum or the project."""
    require_target(config)
    budget = Budget({"forum": config.forum.max_requests, "gitlab": config.gitlab.max_requests})
    forum = DiscourseForum(
        config.forum.url,
        config.forum.api_username if config.forum.api_key else None,
        config.forum.api_key,
        timeout=config.forum.timeout,
        budget=budget,
    )
    g = config.gitlab
    if g.python_gitlab_id is not None or (not g.token and python_gitlab_config_file()):
        # An explicit section, or no docsgap token but python-gitlab's own config file:
        # use its (default) section for url and token, as the `gitlab` CLI would.
        tracker = GitLabTracker.from_python_gitlab_config(
            g.python_gitlab_id, g.project, docs_label=g.docs_label, budget=budget
        )
    else:
        tracker = GitLabTracker(
            g.url, g.project, token=g.token, token_kind=g.token_kind, docs_label=g.docs_label,
            budget=budget, timeout=g.timeout,
        )
    store = StateStore(config.state_path)
    try:
        detector = _detector(config, store)
    except BaseException:
        store.close()
        raise
    # The preflight asks GitLab through the tracker's own client: one budget, and what it
    # learns of the token's user and the project is not asked again before the writes.
    probed: Counter[str] = Counter()
    preflight = Preflight(lambda cfg: forum_probe(cfg, probed), lambda _cfg: tracker.checks())
    return Services(forum, tracker, store, detector, budget, preflight, probed)
