"""The sandbox's own API (`/_sandbox/...`), its Python handle, and `docsgap sandbox`."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import requests
import typer
from typer.testing import CliRunner

from docsgap.cli import common, sandbox_cmd
from docsgap.sandbox import SANDBOX_DISCOURSE_API_KEY, SANDBOX_GITLAB_TOKEN, Sandbox, is_loopback
from docsgap.sandbox.client import control_url


def cli() -> typer.Typer:
    """A bare app with only the sandbox commands registered."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """docsgap (sandbox commands only)."""

    sandbox_cmd.register(app, common.add_groups(app))
    return app


def control(sandbox: Sandbox, method: str, name: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{sandbox.base_url}/_sandbox/{name}", json=body, timeout=5)


def test_state_snapshot_over_http(sandbox: Sandbox) -> None:
    requests.get(f"{sandbox.forum_url}/posts.json", timeout=5)
    state = control(sandbox, "GET", "state").json()
    assert {"topics", "issues", "notes", "merge_requests", "branches", "files", "packages",
            "quick_actions_seen", "mentions_seen", "requests", "faults"} <= set(state)
    assert state["requests"]["forum"] == 1
    assert state["forum_url"] == sandbox.forum_url
    assert state == json.loads(json.dumps(sandbox.state()))


def test_faults_over_http(sandbox: Sandbox) -> None:
    made = control(sandbox, "POST", "faults",
                   {"service": "gitlab", "status": 503, "path_regex": "/issues", "count": 2})
    assert made.status_code == 201
    url = f"{sandbox.gitlab_url}/api/v4/projects/278964/issues"
    assert [requests.get(url, timeout=5).status_code for _ in range(3)] == [503, 503, 200]
    assert control(sandbox, "GET", "faults").json() == []
    bad = control(sandbox, "POST", "faults", {"service": "jira"})
    assert bad.status_code == 400
    control(sandbox, "POST", "faults", {"service": "forum", "status": 500, "count": None})
    assert control(sandbox, "DELETE", "faults").status_code == 204
    assert requests.get(f"{sandbox.forum_url}/latest.json", timeout=5).status_code == 200


def test_humans_act_through_the_control_api(sandbox: Sandbox) -> None:
    closed = control(sandbox, "POST", "gitlab/issues/482117/close", {"labels": ["won't do"]})
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    assert "won't do" in closed.json()["labels"]
    merged = control(sandbox, "POST", "gitlab/merge_requests/172455/merge")
    assert merged.json()["state"] == "merged"
    again = control(sandbox, "POST", "gitlab/merge_requests/172455/merge")
    assert again.status_code == 405
    missing = control(sandbox, "POST", "gitlab/issues/1/close")
    assert missing.status_code == 404

    posted = control(sandbox, "POST", "forum/topics/1013/posts",
                     {"username": "emily.qa", "raw": "Any news on this? Still happening."})
    assert posted.status_code == 201
    assert control(sandbox, "PUT", "forum/topics/1013", {"closed": True}).status_code == 204
    topic = next(t for t in sandbox.state()["topics"] if t["id"] == 1013)
    assert topic["closed"]
    assert topic["posts"][-1]["id"] == posted.json()["id"]
    unknown = control(sandbox, "GET", "nothing-here")
    assert unknown.status_code == 404
    assert "GET /_sandbox/state" in unknown.json()["endpoints"]


def test_reset_forgets_writes(sandbox: Sandbox) -> None:
    requests.post(f"{sandbox.gitlab_url}/api/v4/projects/278964/issues", timeout=5,
                  headers={"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN}, json={"title": "temp"})
    count = len(sandbox.state()["issues"])
    assert control(sandbox, "POST", "reset").status_code == 204
    assert len(sandbox.state()["issues"]) == count - 1
    assert sandbox.state()["requests"]["total"] == 0


def test_quick_actions_and_mentions_are_recorded_not_run(sandbox: Sandbox) -> None:
    requests.post(f"{sandbox.gitlab_url}/api/v4/projects/278964/issues/482117/notes", timeout=5,
                  headers={"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN},
                  json={"body": "From the forum:\n/close\ncc @docs-team"})
    state = sandbox.state()
    assert [q["command"] for q in state["quick_actions_seen"]] == ["close"]
    assert [m["mention"] for m in state["mentions_seen"]] == ["@docs-team"]
    issue = next(i for i in state["issues"] if i["iid"] == 482117)
    assert issue["state"] == "opened"


def test_loopback_only_unless_allowed() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.10")
    with pytest.raises(ValueError, match="non-loopback"):
        Sandbox(host="0.0.0.0")


def test_seed_can_replace_one_side() -> None:
    forum = {"users": [{"id": 1, "username": "solo", "admin": True}],
             "categories": [{"id": 1, "name": "General"}],
             "api_keys": [{"key": "k", "username": None}],
             "topics": [{"id": 7, "title": "Only topic", "posts": [
                 {"user": "solo", "at": "2025-01-01T00:00:00Z", "raw": "hello there, world"}]}]}
    with Sandbox({"forum": forum}) as small:
        assert [t["id"] for t in small.state()["topics"]] == [7]
        assert len(small.state()["issues"]) > 15  # the demo's GitLab side


def test_cli_state_prints_the_snapshot(server: Sandbox) -> None:
    result = CliRunner().invoke(cli(), ["sandbox", "state", "--url", server.forum_url,
                                        "--section", "projects"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["path_with_namespace"] == "gitlab-org/gitlab"
    assert control_url(server.gitlab_url, "state") == f"{server.base_url}/_sandbox/state"


def test_cli_errors_are_one_line_and_a_documented_code(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        probe.listen()
        busy = probe.getsockname()[1]
        runner = CliRunner()
        down = runner.invoke(cli(), ["sandbox", "state", "--url", "http://127.0.0.1:9"])
        assert down.exit_code == 6
        assert "no sandbox answering" in down.output
        in_use = runner.invoke(cli(), ["sandbox", "serve", "--port", str(busy)])
        assert in_use.exit_code == 3
        assert "cannot listen" in in_use.output
    remote = runner.invoke(cli(), ["sandbox", "serve", "--host", "0.0.0.0", "--port", "0"])
    assert remote.exit_code == 3
    assert "--allow-remote" in remote.output
    broken = tmp_path / "seed.json"
    broken.write_text("{not json", encoding="utf-8")
    bad_data = runner.invoke(cli(), ["sandbox", "serve", "--port", "0", "--data", str(broken)])
    assert bad_data.exit_code == 3
    assert "not valid JSON" in bad_data.output
    broken.write_text('{"forum": {"topics": [{"id": 1, "title": "x"}]}}', encoding="utf-8")
    bad_seed = runner.invoke(cli(), ["sandbox", "serve", "--port", "0", "--data", str(broken)])
    assert bad_seed.exit_code == 3
    assert "invalid sandbox data" in bad_seed.output


@pytest.mark.parametrize(("seed", "problem"), [
    ('{"forum": 3}', "forum: expected an object, got a number"),
    ('{"forum": {"topics": {"id": 1}}}', "forum.topics: expected a list, got an object"),
    ('{"forum": {"topics": [{"id": 1, "title": "x"}]}}', "forum.topics[0]: missing 'posts'"),
    ('{"forum": {"topics": [{"id": 1, "title": "x", "posts": [{"user": "a"}]}]}}',
     "forum.topics[0].posts[0]: missing 'at' or 'created_at'"),
    ('{"gitlab": {"projects": [{"id": 1, "path_with_namespace": "a/b", "issues": [7]}]}}',
     "gitlab.projects[0].issues[0]: expected an object, got a number"),
    ('{"gitlab": {"projects": [{"id": 1, "path_with_namespace": "a/b"}]}}',
     "project a/b: no 'owner' and no users"),
])
def test_a_misshapen_seed_names_the_file_and_the_place(
    tmp_path: Path, seed: str, problem: str,
) -> None:
    path = tmp_path / "my-seed.json"
    path.write_text(seed, encoding="utf-8")
    result = CliRunner().invoke(cli(), ["sandbox", "serve", "--port", "0", "--data", str(path)])
    assert result.exit_code == 3, result.output
    assert f"{path}: invalid sandbox data: {problem}" in result.output
    assert "Error:" not in result.output and "Traceback" not in result.output


def test_serve_prints_where_and_how(server: Sandbox) -> None:
    lines = "\n".join(sandbox_cmd.describe(server))
    assert server.forum_url in lines
    assert server.gitlab_url in lines
    assert SANDBOX_DISCOURSE_API_KEY in lines
    assert "POST /_sandbox/gitlab/issues/{iid}/close" in lines
