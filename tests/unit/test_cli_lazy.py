"""`docsgap CMD` imports only the command modules CMD needs (`cli.COMMANDS`); the table must
name, for every command and group, each module that adds to it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import typer

from docsgap import cli
from docsgap.cli import common


def _names(module: str) -> set[str]:
    """The top-level commands and the groups `module` adds to, on an app of its own."""
    app = typer.Typer()
    groups = common.add_groups(app)
    importlib.import_module(f"docsgap.cli.{module}").register(app, groups)
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    for info in app.registered_groups:
        sub = info.typer_instance
        if sub is not None and (sub.registered_commands or sub.registered_groups):
            names.add(str(info.name))
    return {n.replace("_", "-") for n in names}


def test_the_table_names_every_module_of_every_command() -> None:
    added = {m: _names(m) for m in cli.MODULES}
    for module, names in added.items():
        assert names, module
        for name in names:
            assert module in cli.COMMANDS[name], (name, module)
    for name, modules in cli.COMMANDS.items():
        assert all(name in added[m] for m in modules), name


@pytest.mark.parametrize(("argv", "modules"), [
    (["run", "--apply"], ("run_cmd",)),
    (["-v", "--debug", "eval", "detect", "-d", "x"], ("detect_cmd", "match_cmd", "docs_cmd")),
    (["--help"], cli.MODULES),
    ([], cli.MODULES),
    (["no-such-command"], cli.MODULES),
])
def test_modules_for_a_command_line(argv: list[str], modules: tuple[str, ...]) -> None:
    assert cli.modules_for(argv) == modules


def test_run_does_not_import_the_sandbox_or_the_trainers() -> None:
    code = ("import sys; from docsgap import cli; cli.register(cli.modules_for(['run'])); "
            "print(sorted(m for m in ('docsgap.sandbox', 'docsgap.detect.train', "
            "'docsgap.dedupe.train', 'docsgap.cli.detect_cmd') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_app_has_every_command() -> None:
    names = {c.name or (c.callback.__name__ if c.callback else "")
             for c in cli.app.registered_commands}
    names |= {str(g.name) for g in cli.app.registered_groups}
    assert names == set(cli.COMMANDS)
