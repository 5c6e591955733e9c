"""The rules cache beside the state: a kept ruleset judges exactly as freshly loaded rules; any
change to the rules, the model files, docsgap's version or code makes it load them again; a
damaged, foreign or unwritable cache is ignored, never an error; bad rules are never kept."""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path

import pytest

from docsgap.detect import rulecache
from docsgap.detect.detector import Detector
from docsgap.detect.rules import MODEL_FILE, load_rules
from docsgap.detect.ruleset import RuleSet
from docsgap.errors import RulesError

TEXTS = [
    "The docs at https://docs.gitlab.com/ci/yaml/ are wrong: the rules example fails.",
    "Is there any documentation on how to configure the runner cache? I could not find any.",
    "Thanks, that worked!",
]
RULE = """rules:
  - id: mine.{name}
    gap_type: missing
    description: Mine.
    weight: 1.0
    phrases: ["{phrase}"]
    examples:
      match: ["the {phrase} here"]
"""


class Loads:
    """`load_rules` that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, dirs: Sequence[Path]) -> RuleSet:
        self.calls += 1
        return load_rules(dirs)


def _judge(ruleset: RuleSet) -> list[object]:
    detector = Detector(ruleset)
    return [detector.detect_text("Title", t) for t in TEXTS]


def test_a_kept_ruleset_judges_as_loaded_rules(tmp_path: Path) -> None:
    cache, loads = tmp_path / "state.db.rules-cache", Loads()
    first = rulecache.load_cached(cache, (), loads)
    kept = rulecache.load_cached(cache, (), loads)
    assert loads.calls == 1 and cache.is_file()
    # What a detector derives from the rules came with them: gates, twins, the model.
    assert kept is not first and {"gate_index", "twins", "model"} <= set(vars(kept))
    assert len(kept.twins) >= len(kept.rules) and kept.model == first.model
    fresh = load_rules()
    assert [r.regex for r in kept.rules] == [r.regex for r in fresh.rules]  # equal code
    assert kept.rules == fresh.rules and kept.cancellers == fresh.cancellers
    assert _judge(kept) == _judge(fresh)


def test_any_change_to_the_rules_loads_them_again(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mine.yml").write_text(RULE.format(name="one", phrase="quux widget"), "utf-8")
    cache, loads = tmp_path / "c", Loads()
    rulecache.load_cached(cache, (rules,), loads)
    rulecache.load_cached(cache, (rules,), loads)
    assert loads.calls == 1
    (rules / "mine.yml").write_text(RULE.format(name="one", phrase="quux gadget"), "utf-8")
    changed = rulecache.load_cached(cache, (rules,), loads)
    assert loads.calls == 2
    assert "quux" in changed.rules[-1].sources[0] and "gadget" in changed.rules[-1].sources[0]
    (rules / "docs-map.yml").write_text("{}\n", "utf-8")  # the docs map counts too
    rulecache.load_cached(cache, (rules,), loads)
    assert loads.calls == 3
    (rules / MODEL_FILE).write_bytes(b"")  # so does a model file appearing
    rulecache.load_cached(cache, (rules,), loads)
    assert loads.calls == 4
    (rules / MODEL_FILE).write_bytes(b"other weights")  # or changing
    rulecache.load_cached(cache, (rules,), loads)
    assert loads.calls == 5
    rulecache.load_cached(cache, (), loads)  # and other rules folders
    assert loads.calls == 6


def test_a_new_version_or_changed_code_loads_them_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, loads = tmp_path / "c", Loads()
    code = tmp_path / "pkg"
    code.mkdir()
    (code / "mod.py").write_text("x = 1\n", "utf-8")
    monkeypatch.setattr(rulecache, "_PACKAGE", code)
    rulecache.load_cached(cache, (), loads)
    monkeypatch.setattr(rulecache, "__version__", "99.0")
    rulecache.load_cached(cache, (), loads)
    assert loads.calls == 2
    (code / "mod.py").write_text("x = 22\n", "utf-8")
    rulecache.load_cached(cache, (), loads)
    assert loads.calls == 3
    rulecache.load_cached(cache, (), loads)
    assert loads.calls == 3


def test_bad_rules_are_never_kept(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yml").write_text("rules:\n  - id: mine.one\n    gap_type: nonsense\n", "utf-8")
    cache = tmp_path / "c"
    for _ in range(2):
        with pytest.raises(RulesError):
            rulecache.load_cached(cache, (rules,))
    assert not cache.exists()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong key", "empty"])
def test_a_damaged_cache_is_ignored_and_replaced(tmp_path: Path, damage: str) -> None:
    cache, loads = tmp_path / "c", Loads()
    rulecache.load_cached(cache, (), loads)
    data = cache.read_bytes()
    head, key, body = data.split(b"\n", 2)
    cache.write_bytes({"truncated": data[: len(data) // 2],
                       "garbage": head + b"\n" + key + b"\n" + b"\x80\x05not a pickle",
                       "wrong key": head + b"\n" + b"0" * len(key) + b"\n" + body,
                       "empty": b""}[damage])
    ruleset = rulecache.load_cached(cache, (), loads)
    assert loads.calls == 2
    assert _judge(ruleset) == _judge(load_rules())
    assert cache.read_bytes() == data  # written again
    rulecache.load_cached(cache, (), loads)
    assert loads.calls == 2


def test_a_cache_naming_other_code_is_not_run(tmp_path: Path) -> None:
    cache, loads = tmp_path / "c", Loads()
    rulecache.load_cached(cache, (), loads)
    head, key, _ = cache.read_bytes().split(b"\n", 2)
    cache.write_bytes(head + b"\n" + key + b"\n" + pickle.dumps(os.getcwd))
    assert isinstance(rulecache.load_cached(cache, (), loads), RuleSet)
    assert loads.calls == 2


def test_a_cache_others_may_write_is_not_read(tmp_path: Path) -> None:
    cache, loads = tmp_path / "c", Loads()
    rulecache.load_cached(cache, (), loads)
    cache.chmod(0o666)
    rulecache.load_cached(cache, (), loads)
    assert loads.calls == 2
    assert cache.stat().st_mode & 0o022 == 0  # replaced by a file of ours


def test_an_unwritable_place_is_no_error(tmp_path: Path) -> None:
    loads = Loads()
    missing = tmp_path / "no" / "such" / "folder" / "c"
    for _ in range(2):
        assert _judge(rulecache.load_cached(missing, (), loads)) == _judge(load_rules())
    assert loads.calls == 2 and not missing.exists()
    blocked = tmp_path / "blocked"
    blocked.mkdir()  # a folder where the file should be
    assert isinstance(rulecache.load_cached(blocked, (), loads), RuleSet)
    assert blocked.is_dir() and [p.name for p in tmp_path.iterdir()] == ["blocked"]
