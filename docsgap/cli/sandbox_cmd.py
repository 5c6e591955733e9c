"""`docsgap sandbox serve|state`: run the loopback Discourse + GitLab sandbox, inspect it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from docsgap import sandbox as sb
from docsgap.cli import common
from docsgap.errors import ConfigError
from docsgap.sandbox.client import DEFAULT_PORT, DEFAULT_URL, fetch_state, load_seed
from docsgap.sandbox.control import ENDPOINTS
from docsgap.sandbox.seed import SeedError

SERVE_HELP = """Serve the sandbox in the foreground until Ctrl-C.

It speaks the subsets of the Discourse API (under /forum) and the GitLab REST API (under
/gitlab/api/v4) that docsgap uses, with real payload shapes, pagination, auth errors and rate
limit answers, seeded with a demo forum and GitLab project (or --data FILE). Its state is at
GET /_sandbox/state; faults are injected with POST /_sandbox/faults. Writes live in memory
only. Listens on loopback only unless --allow-remote is given."""


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add the `sandbox` command group."""
    sandbox_app = typer.Typer(
        help="A local Discourse + GitLab (loopback HTTP) for demos, tests and trying rules.",
        no_args_is_help=True,
    )
    app.add_typer(sandbox_app, name="sandbox")

    @sandbox_app.command(help=SERVE_HELP)
    @common.handle_errors
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(
            min=0, max=65535, help="Port to listen on (0: any free port).")] = DEFAULT_PORT,
        data: Annotated[Path | None, typer.Option(
            "--data", help="Seed JSON with 'forum' and/or 'gitlab' parts (default: the demo).",
        )] = None,
        allow_remote: Annotated[bool, typer.Option(
            "--allow-remote", help="Allow a non-loopback --host (the sandbox has no real auth).",
        )] = False,
        rate_limit: Annotated[int | None, typer.Option(
            "--rate-limit", help="Requests a minute all Discourse API keys share (real sites: "
            "60); beyond it the forum answers 429 with its wait hint. Default: no limit.",
        )] = None,
    ) -> None:
        seed = load_seed(data) if data is not None else None
        try:
            server = sb.Sandbox(seed, host, port, allow_remote=allow_remote,
                                admin_api_per_minute=rate_limit)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                              hint="pick another --port (0 picks a free one)") from exc
        except SeedError as exc:
            raise ConfigError(f"{data}: {exc}") from exc
        except ValueError as exc:
            hint = None if sb.is_loopback(host) else "pass --allow-remote to serve beyond loopback"
            raise ConfigError(str(exc), hint=hint) from exc
        for line in describe(server):
            typer.echo(line)
        sys.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            typer.echo("sandbox stopped", err=True)
        finally:
            server.stop()

    @sandbox_app.command()
    @common.handle_errors
    def state(
        url: Annotated[str, typer.Option(
            help="The sandbox's base URL (as `serve` prints it; /forum or /gitlab also work).",
        )] = DEFAULT_URL,
        section: Annotated[str | None, typer.Option(
            help="Print only this key of the snapshot (topics, issues, notes, merge_requests, "
            "packages, requests, ...).",
        )] = None,
    ) -> None:
        """Print the state of a running sandbox as JSON: topics with every post, issues, notes,
        merge requests, branches and files, packages, what would have fired (quick actions,
        mentions) and request counts."""
        snapshot = fetch_state(url)
        if section is not None:
            if section not in snapshot:
                raise ConfigError(f"no section {section!r}; choose from {', '.join(snapshot)}")
            common.echo_json(snapshot[section])
            return
        common.echo_json(snapshot)


def describe(server: sb.Sandbox) -> list[str]:
    """What `serve` prints: where each service is and the credentials that work."""
    return [
        f"docsgap sandbox on {server.base_url} (Ctrl-C to stop)",
        f"  Discourse  {server.forum_url}",
        f"             Api-Key {sb.SANDBOX_DISCOURSE_API_KEY}",
        f"             Api-Username {sb.SANDBOX_DISCOURSE_API_USERNAME}",
        f"  GitLab     {server.gitlab_url}  (API {server.gitlab_url}/api/v4)",
        f"             project {sb.SANDBOX_PROJECT}",
        f"             PRIVATE-TOKEN {sb.SANDBOX_GITLAB_TOKEN} (api), "
        f"{sb.SANDBOX_GITLAB_READONLY_TOKEN} (read_api)",
        f"             JOB-TOKEN {sb.SANDBOX_CI_JOB_TOKEN} (package registry only)",
        "  Control    " + "\n             ".join(ENDPOINTS),
        "To point docsgap at it:",
        f"  export DOCSGAP_FORUM_URL={server.forum_url}",
        f"  export DOCSGAP_DISCOURSE_API_USERNAME={sb.SANDBOX_DISCOURSE_API_USERNAME}",
        f"  export DOCSGAP_DISCOURSE_API_KEY={sb.SANDBOX_DISCOURSE_API_KEY}",
        f"  export DOCSGAP_GITLAB_URL={server.gitlab_url}",
        f"  export DOCSGAP_GITLAB_PROJECT={sb.SANDBOX_PROJECT}",
        f"  export DOCSGAP_GITLAB_TOKEN={sb.SANDBOX_GITLAB_TOKEN}",
    ]
