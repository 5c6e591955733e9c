"""GitLabTracker (python-gitlab) against the loopback sandbox: doc items through keyset and
offset pagination, issues, notes, files, draft MRs, auth failures, 429 and 5xx; plus the
endpoints other commands use (issue updates, doctor checks, the generic package registry)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from docsgap.errors import AuthError, NotFoundError, UnavailableError
from docsgap.models import IssueDraft, MergeRequestDraft
from docsgap.sandbox import (
    SANDBOX_CI_JOB_TOKEN,
    SANDBOX_GITLAB_READONLY_TOKEN,
    SANDBOX_GITLAB_TOKEN,
    SANDBOX_PROJECT,
    Sandbox,
)
from docsgap.tracker.gitlab import GitLabTracker
from tests.sandbox.conftest import paths

TOKEN = {"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN}
MARKER = "<!-- docsgap:key=t1011:missing:ci/yaml -->"
DRAFT = IssueDraft(
    title="Docs: explain how interruptible and workflow:auto_cancel interact",
    description=f"Forum thread: http://forum.example/t/1011\n\n{MARKER}",
    labels=("documentation", "docs-feedback", "docsgap"),
)


def api(sandbox: Sandbox, rest: str = "") -> str:
    """The project's REST URL (path-encoded id)."""
    return f"{sandbox.gitlab_url}/api/v4/projects/gitlab-org%2Fgitlab{rest}"


def seeded(sandbox: Sandbox, kind: str = "issues") -> list[dict[str, Any]]:
    return [i for i in sandbox.state()[kind] if "documentation" in i["labels"]]


def test_doc_items_follow_keyset_links_then_mr_offset_links(
    sandbox: Sandbox, tracker: GitLabTracker
) -> None:
    items = list(tracker.doc_items(None))

    issues = [i for i in items if i.kind == "issue"]
    mrs = [i for i in items if i.kind == "merge_request"]
    assert {i.iid for i in issues} == {i["iid"] for i in seeded(sandbox)}
    assert {m.iid for m in mrs} == {m["iid"] for m in seeded(sandbox, "merge_requests")}
    stamps = [i.updated_at for i in issues]
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    served = paths(sandbox, "gitlab")
    issue_pages = [p for p in served if "/issues?" in p]
    assert len(issue_pages) == -(-len(issues) // 5)
    assert all("pagination=keyset" in p for p in issue_pages)
    assert all("cursor=" in p for p in issue_pages[1:])
    assert {i.web_url.split("/-/")[0] for i in items} == {f"{sandbox.gitlab_url}/{SANDBOX_PROJECT}"}


def test_doc_items_updated_after_is_incremental(sandbox: Sandbox, tracker: GitLabTracker) -> None:
    bound = datetime(2025, 8, 1, tzinfo=UTC)
    expected = {i["iid"] for i in seeded(sandbox) if i["updated_at"] >= "2025-08-01"}
    got = {i.iid for i in tracker.doc_items(bound) if i.kind == "issue"}
    assert got == expected
    assert 0 < len(got) < len(seeded(sandbox))


def test_offset_pagination_headers_and_link_prefix(sandbox: Sandbox) -> None:
    first = requests.get(api(sandbox, "/issues"), timeout=5,
                         params={"labels": "documentation", "per_page": "5"})
    total = len(seeded(sandbox))
    assert first.headers["X-Total"] == str(total)
    assert first.headers["X-Total-Pages"] == str(-(-total // 5))
    assert first.headers["X-Next-Page"] == "2"
    assert f'<{api(sandbox, "/issues")}?labels=documentation&page=2&per_page=5>; rel="next"' \
        in first.headers["Link"]
    keyset_mrs = requests.get(api(sandbox, "/merge_requests"), params={"pagination": "keyset"},
                              timeout=5)
    assert keyset_mrs.status_code == 405
    by_due = {"pagination": "keyset", "order_by": "due_date"}
    assert requests.get(api(sandbox, "/issues"), params=by_due, timeout=5).status_code == 405
    del by_due["pagination"]
    assert requests.get(api(sandbox, "/issues"), params=by_due, timeout=5).status_code == 200
    too_far = requests.get(api(sandbox, "/issues"), params={"page": "502", "per_page": "100"},
                           timeout=5)
    assert too_far.status_code == 405
    assert "Offset pagination has a maximum allowed offset of 50000" in too_far.json()["error"]


def test_merge_request_listing_pages_by_link(sandbox: Sandbox, gl_sleeps: list[float]) -> None:
    small = GitLabTracker(sandbox.gitlab_url, SANDBOX_PROJECT, token=SANDBOX_GITLAB_TOKEN,
                          per_page=2)
    mrs = [i for i in small.doc_items(None) if i.kind == "merge_request"]
    assert len(mrs) == len(seeded(sandbox, "merge_requests")) > 2
    assert any("/merge_requests?" in p and "page=2" in p for p in paths(sandbox, "gitlab"))


def test_open_issue_then_find_it_by_marker(sandbox: Sandbox, tracker: GitLabTracker) -> None:
    opened = tracker.open_issue(DRAFT)

    assert opened.iid == max(i["iid"] for i in sandbox.state()["issues"])
    assert opened.state == "opened"
    assert opened.labels == DRAFT.labels
    assert tracker.find_issue_with_marker(MARKER) == opened
    assert tracker.find_issue_with_marker("<!-- docsgap:key=nowhere -->") is None
    row = next(i for i in sandbox.state()["issues"] if i["iid"] == opened.iid)
    assert (row["author"], row["description"]) == ("docsgap-bot", DRAFT.description)


@pytest.mark.parametrize("mode", ["raw", "unwrap"])
def test_marker_found_whatever_the_search_index_drops(
        sandbox: Sandbox, tracker: GitLabTracker, mode: str) -> None:
    # Older releases drop HTML comments from the index; all drop runs of 50+ letters/slashes,
    # as a long docs path in a key makes. Recovery must not depend on either.
    long_key = "<!-- docsgap:key=issue:t7:missing:doc/administration/geo/replication/" \
        "troubleshooting/synchronization -->"
    opened = tracker.open_issue(DRAFT)
    long_one = tracker.open_issue(IssueDraft("Docs: geo sync", f"Body\n\n{long_key}", ()))
    sandbox.gitlab.search_mode = mode
    fresh = GitLabTracker(sandbox.gitlab_url, SANDBOX_PROJECT, token=SANDBOX_GITLAB_TOKEN,
                          per_page=5, timeout=5)
    assert fresh.find_issue_with_marker(MARKER) == opened
    assert fresh.find_issue_with_marker(long_key) == long_one
    assert fresh.find_issue_with_marker("<!-- docsgap:key=nowhere -->") is None
    assert not [p for p in paths(sandbox, "gitlab") if "search=" in p]


def test_notes_add_list_oldest_first_and_update(sandbox: Sandbox, tracker: GitLabTracker) -> None:
    before = tracker.notes("issue", 482117)
    added = tracker.add_note("issue", 482117, "Another forum thread reports this.")
    edited = tracker.update_note("issue", 482117, added.id, "Two forum threads report this.")

    after = tracker.notes("issue", 482117)
    assert [n.id for n in after] == [n.id for n in before] + [added.id]
    assert after[-1].body == edited.body == "Two forum threads report this."
    assert any("sort=asc" in p for p in paths(sandbox, "gitlab") if p.endswith("notes") or
               "/notes?" in p)


def test_issue_update_in_place_over_put(sandbox: Sandbox, tracker: GitLabTracker) -> None:
    issue = tracker.open_issue(DRAFT)
    response = requests.put(api(sandbox, f"/issues/{issue.iid}"), headers=TOKEN, timeout=5,
                            json={"title": "docsgap summary", "description": "week 2",
                                  "labels": "documentation,docsgap"})
    assert response.status_code == 200
    fresh = tracker.get_item("issue", issue.iid)
    assert (fresh.title, fresh.description) == ("docsgap summary", "week 2")
    assert fresh.labels == ("documentation", "docsgap")
    requests.put(api(sandbox, f"/issues/{issue.iid}"), headers=TOKEN, timeout=5,
                 json={"state_event": "close"})
    assert tracker.get_item("issue", issue.iid).state == "closed"


def test_closed_as_duplicate_reads_back_as_the_original_url(
        sandbox: Sandbox, tracker: GitLabTracker) -> None:
    original, dup = tracker.open_issue(DRAFT), tracker.open_issue(DRAFT)
    response = requests.post(f"{sandbox.base_url}/_sandbox/gitlab/issues/{dup.iid}/close",
                             json={"duplicate_of": original.iid}, timeout=5)
    assert response.status_code == 200
    fresh = tracker.get_item("issue", dup.iid)
    assert fresh.state == "closed" and fresh.duplicate_of == original.web_url
    assert any(n.system and f"duplicate of #{original.iid}" in n.body
               for n in tracker.notes("issue", dup.iid))
    listed = {i.web_url: i for i in tracker.doc_items(updated_after=None)}
    assert listed[dup.web_url].duplicate_of == original.web_url
    assert listed[original.web_url].duplicate_of is None
    seeded_dup = tracker.get_item("issue", 469002)  # the demo seed's own `/duplicate #468201`
    assert seeded_dup.duplicate_of == seeded_dup.web_url.replace("469002", "468201")


def test_files_on_head_and_branches(sandbox: Sandbox, tracker: GitLabTracker) -> None:
    assert tracker.read_file("doc/ci/caching/_index.md").startswith("---\nstage: Verify")
    assert "must be listed in `needs`" in tracker.read_file(
        "doc/ci/yaml/_index.md", "docs/needs-dependencies")
    with pytest.raises(NotFoundError):
        tracker.read_file("doc/not/there.md")
    assert any("ref=HEAD" in p for p in paths(sandbox, "gitlab"))


def test_draft_mr_is_created_once(sandbox: Sandbox, tracker: GitLabTracker) -> None:
    draft = MergeRequestDraft(
        title="Docs: say where the cache lives",
        description="Related to #462877",
        source_branch="docsgap/cache-location",
        target_branch="master",
        file_path="doc/ci/caching/_index.md",
        content=tracker.read_file("doc/ci/caching/_index.md") + "\nCaches live on the runner.\n",
        commit_message="Docs: say where the cache lives",
        labels=("documentation",),
    )
    first = tracker.open_draft_mr(draft)
    again = tracker.open_draft_mr(draft)

    assert first == again
    assert first.title == "Draft: Docs: say where the cache lives"
    mrs = [m for m in sandbox.state()["merge_requests"]
           if m["source_branch"] == draft.source_branch]
    assert len(mrs) == 1
    assert mrs[0]["draft"]
    assert mrs[0]["changed_files"] == ["doc/ci/caching/_index.md"]
    assert tracker.read_file(draft.file_path, draft.source_branch) == draft.content


def test_docs_team_closes_and_merges_through_the_control_api(
    sandbox: Sandbox, tracker: GitLabTracker
) -> None:
    sandbox.close_issue(476921, labels=["won't do"])
    declined = tracker.get_item("issue", 476921)
    assert declined.state == "closed"
    assert "won't do" in declined.labels
    assert declined.closed_at is not None

    sandbox.merge_merge_request(173880)
    merged = tracker.get_item("merge_request", 173880)
    assert merged.state == "merged"
    assert merged.closed_at is not None
    assert tracker.get_item("issue", 486200).state == "closed"  # "Closes #486200"
    assert "aws/_index.md" in tracker.read_file("doc/ci/variables/_index.md")


def test_wrong_token_and_read_only_token(sandbox: Sandbox, gl_sleeps: list[float]) -> None:
    wrong = GitLabTracker(sandbox.gitlab_url, SANDBOX_PROJECT, token="glpat-wrong")
    with pytest.raises(AuthError) as unauthorized:
        list(wrong.doc_items(None))
    assert unauthorized.value.status == 401

    reader = GitLabTracker(sandbox.gitlab_url, SANDBOX_PROJECT,
                           token=SANDBOX_GITLAB_READONLY_TOKEN)
    assert reader.get_item("issue", 482117).iid == 482117
    with pytest.raises(AuthError) as forbidden:
        reader.open_issue(DRAFT)
    assert forbidden.value.status == 403
    body = requests.post(api(sandbox, "/issues"), json={"title": "x"}, timeout=5,
                         headers={"PRIVATE-TOKEN": SANDBOX_GITLAB_READONLY_TOKEN}).json()
    assert body["error"] == "insufficient_scope"


def test_429_retry_after_is_obeyed(
    sandbox: Sandbox, tracker: GitLabTracker, gl_sleeps: list[float]
) -> None:
    sandbox.add_fault("gitlab", status=429, wait_seconds=3, path_regex=r"/issues\?")
    assert len(list(tracker.doc_items(None))) > 15
    assert gl_sleeps == [3]
    assert [r["status"] for r in sandbox.requests_log()][:2] == [429, 200]

    sandbox.add_fault("gitlab", status=429, wait_seconds=12)
    throttled = requests.get(api(sandbox, "/issues"), timeout=5)
    assert throttled.status_code == 429
    assert throttled.text == "Retry later\n"
    assert throttled.headers["Retry-After"] == "12"
    assert throttled.headers["RateLimit-Remaining"] == "0"
    assert int(throttled.headers["RateLimit-Reset"]) > int(sandbox.now())


def test_5xx_reads_retried_writes_not(
    sandbox: Sandbox, tracker: GitLabTracker, gl_sleeps: list[float]
) -> None:
    sandbox.add_fault("gitlab", status=502, method="GET", path_regex="/repository/files/")
    assert tracker.read_file("README.md").startswith("# GitLab")
    assert len(gl_sleeps) == 1
    count = len(sandbox.state()["issues"])
    sandbox.add_fault("gitlab", status=500, method="POST")
    with pytest.raises(UnavailableError):
        tracker.open_issue(DRAFT)
    assert len(sandbox.state()["issues"]) == count


def test_doctor_endpoints(sandbox: Sandbox) -> None:
    root = f"{sandbox.gitlab_url}/api/v4"
    me = requests.get(f"{root}/user", headers=TOKEN, timeout=5).json()
    assert (me["username"], me["bot"]) == ("docsgap-bot", True)
    token = requests.get(f"{root}/personal_access_tokens/self", headers=TOKEN, timeout=5).json()
    assert token["scopes"] == ["api"]
    assert token["active"]
    assert not token["revoked"]
    assert requests.get(f"{root}/user", timeout=5).status_code == 401
    labels = requests.get(api(sandbox, "/labels"), params={"per_page": 100}, timeout=5).json()
    docs = next(lb for lb in labels if lb["name"] == "documentation")
    assert docs["open_issues_count"] > 10


def test_generic_package_registry_round_trip(sandbox: Sandbox) -> None:
    url = api(sandbox, "/packages/generic/docsgap-state/1/state.db")
    job = {"JOB-TOKEN": SANDBOX_CI_JOB_TOKEN}
    assert requests.put(url, data=b"run one", headers=job, timeout=5).status_code == 201
    assert requests.put(url, data=b"run two", headers=TOKEN, timeout=5).status_code == 201
    fetched = requests.get(url, headers=job, timeout=5)
    assert (fetched.status_code, fetched.content) == (200, b"run two")
    assert fetched.headers["Content-Type"] == "application/octet-stream"

    assert requests.put(url, data=b"x", timeout=5).status_code == 401
    assert requests.get(url.replace("state.db", "other.db"), timeout=5).status_code == 404
    bad = requests.put(api(sandbox, "/packages/generic/docsgap-state/1 2/state.db"),
                       data=b"x", headers=TOKEN, timeout=5)
    assert bad.status_code == 400
    # A job token is only good for the package registry; elsewhere the request is anonymous.
    assert requests.post(api(sandbox, "/issues"), json={"title": "x"}, headers=job,
                         timeout=5).status_code == 401
    listed = requests.get(api(sandbox, "/packages"), params={"package_name": "docsgap-state"},
                          headers=job, timeout=5).json()
    assert [(p["name"], p["version"], p["package_type"]) for p in listed] == [
        ("docsgap-state", "1", "generic")]
    files = sandbox.state()["packages"][0]["files"]
    assert [f["size"] for f in files] == [7, 7]


def demote(sandbox: Sandbox, level: int) -> None:
    """Make docsgap-bot a member of the docs project at `level` (0: not a member)."""
    sandbox.gitlab.set_access(sandbox.gitlab.project(SANDBOX_PROJECT), "docsgap-bot", level)


@pytest.mark.parametrize(("level", "kept"), [(0, ()), (10, ("documentation",)),
                                             (20, ("documentation", "new"))])
def test_labels_dropped_or_not_created_as_gitlab_does(
        sandbox: Sandbox, level: int, kept: tuple[str, ...]) -> None:
    demote(sandbox, level)
    made = requests.post(api(sandbox, "/issues"), headers=TOKEN, timeout=5,
                         json={"title": "Docs gap", "labels": "documentation,new"})
    assert made.status_code == 201  # silently: no error tells the user
    # A Guest sets existing labels on its new issue (IssuePolicy), creates none.
    assert tuple(made.json()["labels"]) == kept
    names = {lb["name"] for lb in requests.get(api(sandbox, "/labels"), timeout=5,
                                               params={"per_page": 100}).json()}
    assert ("new" in names) == (level >= 20)
    edited = requests.put(api(sandbox, f"/issues/{made.json()['iid']}"), headers=TOKEN,
                          timeout=5, json={"add_labels": "docs-feedback"})
    assert ("docs-feedback" in edited.json()["labels"]) == (level >= 20)  # later: Planner+


def test_push_needs_developer(sandbox: Sandbox) -> None:
    demote(sandbox, 20)
    branch = requests.post(api(sandbox, "/repository/branches"), headers=TOKEN, timeout=5,
                           json={"branch": "docsgap/x", "ref": "master"})
    commit = requests.post(api(sandbox, "/repository/commits"), headers=TOKEN, timeout=5, json={
        "branch": "docsgap/y", "start_branch": "master", "commit_message": "docs",
        "actions": [{"action": "create", "file_path": "doc/new.md", "content": "x"}]})
    assert (branch.status_code, commit.status_code) == (403, 403)
    assert commit.json()["message"] == "You are not allowed to push into this branch"
    assert ("docsgap/x" not in {b["name"] for b in sandbox.state()["branches"]})
    project = requests.get(api(sandbox), headers=TOKEN, timeout=5).json()
    assert project["permissions"]["project_access"]["access_level"] == 20
    demote(sandbox, 30)
    again = requests.post(api(sandbox, "/repository/branches"), headers=TOKEN, timeout=5,
                          json={"branch": "docsgap/x", "ref": "master"})
    assert again.status_code == 201


def test_an_archive_of_one_commit_is_always_the_same_bytes(sandbox: Sandbox) -> None:
    """The tar members and the gzip header carry the commit's date, not the clock."""
    import gzip
    import io
    import tarfile

    url = api(sandbox, "/repository/archive.tar.gz")
    headers = {"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN}
    first = requests.get(url, params={"path": "doc"}, headers=headers, timeout=5)
    second = requests.get(url, params={"path": "doc"}, headers=headers, timeout=5)
    assert first.status_code == 200 and first.content == second.content
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(first.content))) as tar:
        stamps = {m.mtime for m in tar.getmembers()}
    header = int.from_bytes(first.content[4:8], "little")  # gzip MTIME (RFC 1952)
    assert stamps == {header}
    assert header < datetime.now(UTC).timestamp() - 86_400  # the seeded commit, not now
