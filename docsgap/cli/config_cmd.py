"""`docsgap config`: the configuration a run would use, each setting with where it came from
(the file, an environment variable, a flag, or the default). Secrets are never printed."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import typer

from docsgap.cli import common
from docsgap.cli.run_cmd import CONFIG_OPT, STATE_OPT, load
from docsgap.config import Config
from docsgap.config.schema import SECRET_KEYS, mask

_META = {"source", "unnamed", "origins"}


def settings(cfg: Config) -> list[tuple[str, Any, str]]:
    """(`section.key`, value as JSON, where it came from) for every setting, in file order."""
    origins = dict(cfg.origins)
    out: list[tuple[str, Any, str]] = []

    def walk(obj: Any, prefix: str) -> None:
        for f in fields(obj):
            name = f"{prefix}{f.name}"
            value = getattr(obj, f.name)
            if f.name in _META and not prefix:
                continue
            if is_dataclass(value):
                walk(value, f"{name}.")
                continue
            shown = mask(value) if f.name in SECRET_KEYS else _plain(value)
            where = origins.get(name, "default")
            if name in cfg.unnamed:
                where = "default: name it before a run may use it"
            out.append((name, shown, where))

    walk(cfg, "")
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


@common.handle_errors
def config_command(
    config: Path | None = CONFIG_OPT,
    state: Path | None = STATE_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print the settings as JSON."),
    changed: bool = typer.Option(False, "--changed",
                                 help="Only the settings that are not at their default."),
) -> None:
    """Print the configuration a run would use, each setting with where it came from: the
    config file, an environment variable (DOCSGAP_*), a flag, or the default. Reads nothing
    from the forum or GitLab; tokens and keys show only whether they are set."""
    cfg = load(config, state)
    rows = [r for r in settings(cfg) if not changed or r[0] in dict(cfg.origins)]
    if as_json:
        common.echo_json({"file": None if cfg.source == "defaults" else cfg.source, "settings": {
            name: {"value": value, "from": where} for name, value, where in rows}})
        return
    typer.echo(f"# config file: {cfg.source}" if cfg.source != "defaults" else
               "# no config file (./docsgap.toml, DOCSGAP_CONFIG or --config)")
    width = max((len(name) for name, _, _ in rows), default=0)
    for name, value, where in rows:
        typer.echo(f"{name:<{width}}  {_text(value)}  ({where})")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value if value in ("(not set)", "****") else repr(value)
    return repr(value) if not isinstance(value, list) else "[" + ", ".join(map(repr, value)) + "]"


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `docsgap config`."""
    app.command("config")(config_command)
