"""The Detector `build_services` hands out sets itself up at first use (a rerun with nothing
new to judge skips compiling its gates) and then judges exactly as a Detector does; bad rules
still fail when services are built."""

from __future__ import annotations

from pathlib import Path

import pytest

from docsgap.config import Config
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.errors import RulesError
from docsgap.loop.services import build_services

TEXT = "The docs at https://docs.gitlab.com/ci/yaml/ are wrong: the rules example fails."


def test_set_up_at_first_use_and_judges_the_same(tmp_path: Path) -> None:
    services = build_services(Config(state_path=tmp_path / "s.db"))
    try:
        lazy = services.detector
        assert isinstance(lazy, Detector) and "_pending" in vars(lazy)
        assert lazy.detect_text("", TEXT) == Detector(load_rules()).detect_text("", TEXT)
        assert "_pending" not in vars(lazy)
    finally:
        services.store.close()


def test_bad_rules_fail_when_services_are_built(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yml").write_text("rules:\n  - id: mine.one\n    gap_type: nonsense\n",
                                   encoding="utf-8")
    with pytest.raises(RulesError):
        build_services(Config(state_path=tmp_path / "s.db", rules_dirs=(rules,)))


def test_rules_a_run_already_loaded_are_not_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    cfg = Config(state_path=tmp_path / "s.db", rules_dirs=(rules,))
    build_services(cfg).store.close()  # checks them and remembers their digest

    from docsgap.loop import services

    calls: list[int] = []
    real = services.load_rules
    monkeypatch.setattr(services, "load_rules", lambda dirs=(): calls.append(1) or real(dirs))
    again = build_services(cfg)
    try:
        assert calls == []  # the same rules: nothing compiled for a run that judges nothing
        assert again.detector.detect_text("", TEXT) == Detector(load_rules()).detect_text("", TEXT)
        assert calls == []  # ...and a post that needs them finds them in the rules cache
    finally:
        again.store.close()
    (tmp_path / "s.db.rules-cache").unlink()
    third = build_services(cfg)
    try:
        assert third.detector.detect_text("", TEXT) == Detector(load_rules()).detect_text("", TEXT)
        assert calls == [1]  # without the cache they are loaded when a post needs them
    finally:
        third.store.close()

    # Any change to a rules file makes the next run check them at once.
    (rules / "bad.yml").write_text("rules:\n  - id: mine.one\n    gap_type: nonsense\n",
                                   encoding="utf-8")
    with pytest.raises(RulesError):
        build_services(cfg)
