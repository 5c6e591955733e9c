"""Loaded rules kept between runs in one file beside the state, so a run that judges a post
(`run --topic` at a terminal) does not parse, check and compile every rule again.

What is kept: the `RuleSet` exactly as `load_rules` returned it, with what a detector derives
from it (the gate index, each regex's lower-case twin, the learned scorer), and each regex as
the code `re` compiled it to (rebuilding a pattern from its code costs microseconds;
compiling the rules from source about 0.1 s). A cache file is used only when its key matches:
docsgap's version, Python's and `re`'s, the content of every rules and docs-map file read,
docsgap's code (each module's size and modification time), the working folder (labels in
messages are relative to it), the rules folders as given and the model files' content. Rules
that fail to load are never kept, so their problems are reported on every run. An unreadable,
corrupt, foreign or unwritable cache is ignored: the rules are loaded as without one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import logging
import os
import pickle
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from docsgap import __version__
from docsgap.detect.model import SHIPPED
from docsgap.detect.rules import MODEL_FILE, load_rules, rules_digest
from docsgap.detect.ruleset import RuleSet
from docsgap.detect.unit import searcher

log = logging.getLogger(__name__)

# `re`'s own parser and compiler (as `docsgap.detect.gate` uses): a pattern's compiled code.
_parser: Any = importlib.import_module("re._parser")
_compiler: Any = importlib.import_module("re._compiler")
_sre: Any = importlib.import_module("_sre")

FORMAT = b"docsgap-rules-cache 1\n"
_PACKAGE = Path(__file__).resolve().parent.parent
_SAFE_BUILTINS = frozenset({"frozenset", "set", "tuple", "list", "dict", "getattr"})


def cache_file(state_path: Path) -> Path:
    """The cache of the rules a state's runs load: `<state>.rules-cache` beside it."""
    return state_path.with_name(state_path.name + ".rules-cache")


def cache_key(extra_dirs: Sequence[Path] = ()) -> str:
    """Changes whenever `load_rules(extra_dirs)` could return something else."""
    digest = hashlib.sha256(rules_digest(extra_dirs).encode())
    digest.update(f"{__version__}\0{sys.version}\0{_sre.MAGIC}\0{Path.cwd()}\0".encode())
    for model in (SHIPPED, *(Path(d) / MODEL_FILE for d in extra_dirs)):
        digest.update(f"{model}\0".encode())
        digest.update(hashlib.sha256(model.read_bytes()).digest() if model.is_file() else b"-")
    # docsgap's code by size and time (a read of all of it would cost more than the cache
    # saves): any edit or reinstall of any module, the kept classes' own included, counts.
    for path in sorted(_PACKAGE.rglob("*.py")):
        info = path.stat()
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def load_cached(path: Path, extra_dirs: Sequence[Path] = (),
                load: Callable[[Sequence[Path]], RuleSet] = load_rules) -> RuleSet:
    """The rules of `extra_dirs` from the cache file `path`, else `load(extra_dirs)` (which
    raises `RulesError` on bad rules) written there for the next run."""
    try:
        key = cache_key(extra_dirs).encode()
    except OSError:  # a rules file went away: let the loader say which
        return load(extra_dirs)
    found = _read(path, key)
    if found is not None:
        return found
    ruleset = load(extra_dirs)
    _write(path, key, ruleset)
    return ruleset


def _read(path: Path, key: bytes) -> RuleSet | None:
    try:
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            # Unpickling runs what the file names: only a file of ours nobody else may write.
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                return None
            if f.readline() != FORMAT or f.readline().rstrip(b"\n") != key:
                return None
            found = _Unpickler(io.BytesIO(f.read())).load()
    except Exception as exc:  # noqa: BLE001 - any damage means "load them again"
        log.debug("rules cache %s not used: %s", path, exc)
        return None
    return found if isinstance(found, RuleSet) else None


def _write(path: Path, key: bytes, ruleset: RuleSet) -> None:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {re.Pattern: _reduce_pattern}
    try:
        # What a detector derives from the rules, made now so that it is kept with them.
        ruleset.gate_index  # noqa: B018
        ruleset.model  # noqa: B018 - a bad model file is the detector's to report
        regexes = [ruleset.docs_ref, *(r.regex for r in ruleset.rules),
                   *(c.regex for c in ruleset.cancellers.values()),
                   *(c.regex for r in ruleset.rules for c in r.cancel)]
        for regex in regexes:
            searcher(regex, ruleset.twins)
        pickler.dump(ruleset)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(FORMAT + key + b"\n" + buffer.getvalue())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except Exception as exc:  # noqa: BLE001 - no cache is only slower
        log.debug("rules cache %s not written: %s", path, exc)


def _reduce_pattern(pattern: re.Pattern[str]) -> tuple[Any, tuple[Any, ...]]:
    """A pattern as the arguments `re` gave `_sre.compile` for it, checked to rebuild the very
    same pattern (equal patterns have equal code); else as its source, compiled again."""
    flags = pattern.flags
    code = list(_code(pattern.pattern, flags))
    indexgroup: list[str | None] = [None] * (pattern.groups + 1)
    for name, index in pattern.groupindex.items():
        indexgroup[index] = name
    args = (pattern.pattern, flags, code, pattern.groups, dict(pattern.groupindex),
            tuple(indexgroup))
    if _rebuilt(*args) == pattern:
        return _rebuilt, args
    return _compiled, (pattern.pattern, flags)


@functools.lru_cache(maxsize=4096)
def _code(source: str, flags: int) -> tuple[int, ...]:
    """What `re` compiles a pattern to, kept for the process: parsing a rule's regex again
    costs more than the rest of a write, and each write (each new state's) asks again."""
    return tuple(int(op) for op in _compiler._code(_parser.parse(source, flags), flags))


def _rebuilt(source: str, flags: int, code: list[int], groups: int,
             groupindex: dict[str, int], indexgroup: tuple[str | None, ...]) -> re.Pattern[str]:
    pattern: re.Pattern[str] = _sre.compile(source, flags, code, groups, groupindex,
                                            indexgroup)
    return pattern


def _compiled(source: str, flags: int) -> re.Pattern[str]:
    return re.compile(source, flags)


class _Unpickler(pickle.Unpickler):
    """Builds docsgap's own types and plain containers only."""

    def find_class(self, module: str, name: str) -> Any:
        if (module == "docsgap" or module.startswith("docsgap.")) or (
                module == "builtins" and name in _SAFE_BUILTINS) or (
                module == "pathlib" and name in ("PosixPath", "WindowsPath", "Path")) or (
                module == "copyreg" and name == "_reconstructor"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a rules cache")
