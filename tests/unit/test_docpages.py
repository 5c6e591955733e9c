"""Docs URL -> source file mapping (rules/docs-map.yml) and page keys in free text."""

from __future__ import annotations

from pathlib import Path

import pytest

from docsgap.docpages.pageid import page_id, page_ids
from docsgap.docpages.pages import docs_map_file, load_docs_map, map_url, page_keys
from docsgap.errors import RulesError
from docsgap.models import DocPage

GL = "gitlab-org/gitlab"


@pytest.mark.parametrize(
    ("url", "project", "path"),
    [
        # Hugo era: pretty URLs; one segment or a listed section -> _index.md, else <path>.md
        ("https://docs.gitlab.com/ci/yaml/", GL, "doc/ci/yaml/_index.md"),
        ("https://docs.gitlab.com/ci/yaml", GL, "doc/ci/yaml/_index.md"),
        ("https://docs.gitlab.com/ci/", GL, "doc/ci/_index.md"),
        ("https://docs.gitlab.com/ci/variables/predefined_variables/", GL,
         "doc/ci/variables/predefined_variables.md"),
        # Nanoc era: /ee/ and /ce/ prefixes, .html, index.html, README.html, trailing slash
        ("https://docs.gitlab.com/ee/ci/yaml/index.html", GL, "doc/ci/yaml/_index.md"),
        ("https://docs.gitlab.com/ee/ci/yaml/README.html", GL, "doc/ci/yaml/_index.md"),
        ("https://docs.gitlab.com/ce/ci/yaml/README.html", GL, "doc/ci/yaml/_index.md"),
        ("https://docs.gitlab.com/ee/user/project/protected_branches/", GL,
         "doc/user/project/protected_branches/_index.md"),
        ("https://docs.gitlab.com/ee/ci/variables/predefined_variables.html", GL,
         "doc/ci/variables/predefined_variables.md"),
        # versions and locales are dropped
        ("https://docs.gitlab.com/16.11/ee/ci/variables/predefined_variables.html", GL,
         "doc/ci/variables/predefined_variables.md"),
        ("https://docs.gitlab.com/17.9/ci/yaml/", GL, "doc/ci/yaml/_index.md"),
        ("https://docs.gitlab.com/ja-jp/user/project/merge_requests/", GL,
         "doc/user/project/merge_requests/_index.md"),
        # the other products
        ("https://docs.gitlab.com/runner/configuration/advanced-configuration.html",
         "gitlab-org/gitlab-runner", "docs/configuration/advanced-configuration.md"),
        ("https://docs.gitlab.com/runner/", "gitlab-org/gitlab-runner", "docs/_index.md"),
        ("https://docs.gitlab.com/16.11/runner/install/", "gitlab-org/gitlab-runner",
         "docs/install/_index.md"),
        ("https://docs.gitlab.com/omnibus/settings/nginx.html", "gitlab-org/omnibus-gitlab",
         "doc/settings/nginx.md"),
        ("https://docs.gitlab.com/charts/installation/deployment/", "gitlab-org/charts/gitlab",
         "doc/installation/deployment.md"),
        ("https://docs.gitlab.com/operator/installation.html",
         "gitlab-org/cloud-native/gitlab-operator", "doc/installation.md"),
        # /help/ on any GitLab instance
        ("https://gitlab.example.com/help/ci/yaml/index.md", GL, "doc/ci/yaml/_index.md"),
        ("https://gitlab.com/help/user/permissions", GL, "doc/user/permissions.md"),
        ("https://git.corp.example:8443/help/ci/variables/_index.md", GL,
         "doc/ci/variables/_index.md"),
        ("https://gitlab.example.com/help/user/permissions.html", GL, "doc/user/permissions.md"),
        # repository file links (old links without /-/ too; renamed repos map to today's)
        ("https://gitlab.com/gitlab-org/gitlab/-/blob/master/doc/ci/yaml/index.md", GL,
         "doc/ci/yaml/_index.md"),
        ("https://gitlab.com/gitlab-org/gitlab/blob/v16.0.0-ee/doc/api/users.md", GL,
         "doc/api/users.md"),
        ("https://gitlab.com/gitlab-org/gitlab-foss/-/blob/master/doc/ci/yaml/README.md", GL,
         "doc/ci/yaml/_index.md"),
        ("https://gitlab.com/gitlab-org/gitlab/-/tree/feature/x/doc/ci/yaml", GL,
         "doc/ci/yaml/_index.md"),
        ("https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/docs/executors/docker.md",
         "gitlab-org/gitlab-runner", "docs/executors/docker.md"),
        ("https://gitlab.com/gitlab-org/charts/gitlab/-/blob/master/doc/charts/globals.md",
         "gitlab-org/charts/gitlab", "doc/charts/globals.md"),
    ],
)
def test_map_url_finds_the_source_file(url: str, project: str, path: str) -> None:
    page = map_url(url)
    assert (page.project, page.path) == (project, path)
    assert page.key == f"{project}:{path}"


def test_url_is_normalised_and_anchor_kept_as_section() -> None:
    page = map_url("http://DOCS.GitLab.com/ee/ci/yaml/index.html?ref=forum#rules-if")
    assert page.url == "https://docs.gitlab.com/ee/ci/yaml/index.html"
    assert page.section == "rules-if"
    assert page.path == "doc/ci/yaml/_index.md"


def test_all_forms_of_one_page_share_a_key() -> None:
    forms = [
        "https://docs.gitlab.com/ci/yaml/#rules",
        "https://docs.gitlab.com/ee/ci/yaml/",
        "https://docs.gitlab.com/ee/ci/yaml/index.html",
        "https://docs.gitlab.com/15.0/ee/ci/yaml/index.html",
        "https://gitlab.example.com/help/ci/yaml/index.md",
        "https://gitlab.com/gitlab-org/gitlab/-/blob/master/doc/ci/yaml/_index.md",
        "docs.gitlab.com/ci/yaml",
    ]
    assert {map_url(u).key for u in forms} == {f"{GL}:doc/ci/yaml/_index.md"}


@pytest.mark.parametrize(
    "url",
    [
        "https://docs.docker.com/engine/install/",
        "https://forum.gitlab.com/t/some-topic/123",
        "https://gitlab.com/gitlab-org/gitlab/-/issues/42",
        "https://gitlab.com/someone/project/-/blob/main/doc/readme.md",
        "https://gitlab.com/gitlab-org/gitlab/-/blob/master/doc/ci/img/pipeline.png",
        "https://docs.gitlab.com/",
        "https://docs.gitlab.com/ee/",
        "https://gitlab.com/help",
    ],
)
def test_unknown_or_non_page_urls_keep_only_the_url(url: str) -> None:
    page = map_url(url)
    assert page.path is None
    assert page.project is None
    assert page.key == page.url
    assert page.url.startswith("https://")


def test_unparseable_input_is_returned_as_written() -> None:
    assert map_url("mailto:someone@example.com") == DocPage(url="mailto:someone@example.com")
    assert map_url("not a url") == DocPage(url="not a url")
    assert map_url("http://[broken").path is None


def test_page_keys_reads_urls_and_bare_source_paths() -> None:
    text = (
        "Per https://docs.gitlab.com/ee/ci/yaml/index.html#only, the `rules` keyword... "
        "Source: `doc/user/permissions.md` and doc/ci/variables/README.md. "
        "Also (https://gitlab.com/gitlab-org/omnibus-gitlab/-/blob/master/doc/settings/nginx.md)."
        " Unrelated: https://example.com/page?x=1."
    )
    assert page_keys(text) == {
        f"{GL}:doc/ci/yaml/_index.md",
        f"{GL}:doc/user/permissions.md",
        f"{GL}:doc/ci/variables/_index.md",
        "gitlab-org/omnibus-gitlab:doc/settings/nginx.md",
        "https://example.com/page",
    }


def test_page_keys_of_plain_text_is_empty() -> None:
    assert page_keys("The docs say nothing about this; see the runner docs folder.") == set()


def _write_map(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "docs-map.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_rules_dir_overrides_the_shipped_map(tmp_path: Path) -> None:
    shipped = docs_map_file()
    assert shipped.name == "docs-map.yml"
    assert shipped.is_file()
    custom = shipped.read_text(encoding="utf-8").replace(
        "hosts: [docs.gitlab.com, archives.docs.gitlab.com]",
        "hosts: [docs.gitlab.com, docs.mirror.example]",
    )
    _write_map(tmp_path / "mine", custom)
    loaded = load_docs_map([tmp_path / "mine"])
    assert loaded is load_docs_map([tmp_path / "mine"])  # cached
    page = map_url("https://docs.mirror.example/ee/ci/yaml/", loaded)
    assert page.path == "doc/ci/yaml/_index.md"
    assert map_url("https://docs.mirror.example/ee/ci/yaml/").path is None  # default map
    assert load_docs_map([tmp_path / "no-map-here"]).file == str(shipped)


def test_bad_map_reports_file_and_line(tmp_path: Path) -> None:
    path = _write_map(
        tmp_path,
        "index_file: _index.md\nindex_names: [index]\nextensions: [.html]\n"
        "sites:\n  hosts: [docs.example]\n  default: {project: a/b, dir: doc}\n  colour: red\n",
    )
    with pytest.raises(RulesError) as err:
        load_docs_map([tmp_path])
    assert err.value.problems == [f"{path}:7: sites.colour: unknown key (allowed: default, "
                                  "home_is_page, hosts, legacy_prefixes, products, skip_segments)"]


def test_missing_key_and_bad_regex_are_reported(tmp_path: Path) -> None:
    path = _write_map(tmp_path / "a", "index_file: _index.md\nextensions: [.html]\n"
                      "sites: {hosts: [d.example], default: {project: a/b, dir: doc}}\n")
    with pytest.raises(RulesError, match=rf"{path}:1: file: missing key 'index_names'"):
        load_docs_map([tmp_path / "a"])
    _write_map(tmp_path / "b", "index_file: _index.md\nindex_names: [index]\nextensions: []\n"
               "sites: {hosts: [d.example], skip_segments: ['(['],"
               " default: {project: a/b, dir: doc}}\n")
    with pytest.raises(RulesError, match="bad regex"):
        load_docs_map([tmp_path / "b"])


# --- page identity on any docs site (dedup) ------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [
    ("https://docs.example.org/en/latest/guide/install.html",
     "http://www.docs.example.org/fr/2.1/guide/install/"),
    ("https://docs.example.org/v3/api/", "https://docs.example.org/api/index.html"),
    ("https://docs.gitlab.com/ee/ci/yaml/", "https://archives.docs.gitlab.com/16.11/ci/yaml/"),
    ("https://github.com/acme/tool/blob/main/docs/setup.md",
     "https://github.com/acme/tool/tree/v2/docs/setup.md"),
])
def test_one_page_under_versions_languages_and_mirrors_has_one_identity(a: str, b: str) -> None:
    first, second = page_id(a), page_id(b)
    assert first is not None and first == second


def test_pages_differ_by_path_and_sites_by_host_or_repository() -> None:
    one = page_id("https://docs.example.org/guide/install.html")
    other = page_id("https://docs.example.org/guide/upgrade.html")
    assert one is not None and other is not None
    assert one.site == other.site and one.page != other.page
    a, b = page_id("https://github.com/acme/a/blob/main/README.md"), page_id(
        "https://github.com/acme/b/blob/main/README.md")
    assert a is not None and b is not None and a.site != b.site
    # A numbered page keeps its number; a trailing version is that version's home page.
    assert page_id("https://tour.example.org/moretypes/18") != page_id(
        "https://tour.example.org/moretypes/17")
    home = page_id("https://docs.example.org/5.30.0/")
    assert home is not None and home.page == ""


def test_anchor_is_the_section_and_tracker_items_are_no_pages() -> None:
    pid = page_id("https://docs.example.org/guide/install.html#Proxy-Settings")
    assert pid is not None and pid.section == "proxy-settings"
    assert page_id("https://github.com/acme/tool/issues/12") is None
    assert page_id("https://docs.example.org/logo.png") is None
    assert page_ids("[BROKEN LINK] https://docs.example.org/guide/install.html fails; see "
                    "https://github.com/acme/tool/pull/3") == {page_id(
                        "https://docs.example.org/guide/install")}


def test_aliases_and_redirects_come_from_the_map(tmp_path: Path) -> None:
    shipped = docs_map_file().read_text(encoding="utf-8")
    custom = shipped.replace(
        "  redirects: []",
        "  redirects:\n    - {from: docs.example.org/old-guide, to: docs.example.org/guide}",
    ).replace("    archives.docs.gitlab.com: docs.gitlab.com",
              "    archives.docs.gitlab.com: docs.gitlab.com\n"
              "    old.example.org: docs.example.org")
    m = load_docs_map([_write_map(tmp_path, custom).parent])
    new = page_id("https://docs.example.org/guide/install.html", m)
    assert page_id("https://old.example.org/old-guide/install.html", m) == new
    assert page_id("https://old.example.org/old-guide/install.html") != new  # shipped map


def test_bad_page_rules_are_reported_with_their_line(tmp_path: Path) -> None:
    shipped = docs_map_file().read_text(encoding="utf-8")
    path = _write_map(tmp_path, shipped.replace("  host_prefixes: [www]",
                                                "  host_prefixes: [www]\n  colour: red")
                      .replace("    - 'en|de|", "    - '(en|de|"))
    with pytest.raises(RulesError) as err:
        load_docs_map([tmp_path])
    lines = shipped.splitlines()
    bad = next(n for n, line in enumerate(lines, 1) if line.startswith("    - 'en|de|"))
    colour = next(n for n, line in enumerate(lines, 1) if line == "  host_prefixes: [www]") + 1
    assert any(p.startswith(f"{path}:{bad}: any_site.drop_segments: bad regex")
               for p in err.value.problems)
    assert any(p.startswith(f"{path}:{colour}: any_site.colour: unknown key")
               for p in err.value.problems)
