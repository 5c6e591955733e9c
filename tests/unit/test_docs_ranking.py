"""The ranking that picks the docs page answering a question (BM25F over title, heading and
text; the question's template, version and log lines left out; one project's pages when asked
for). Pages and questions written for the tests."""

from __future__ import annotations

from pathlib import Path

from docsgap.docs.bm25 import query_weights
from docsgap.docs.evaluate import Labelled, rank, read_labelled
from docsgap.docs.index import DocsIndex, is_release_notes
from docsgap.docs.model import DocsPage, Section
from docsgap.docs.querytext import question_prose


def page(project: str, path: str, title: str, *sections: tuple[str, str]) -> DocsPage:
    secs = tuple(Section(h.lower().replace(" ", "-"), h, 2 if h else 0, t) for h, t in sections)
    url = f"https://docs.example.com/{project}/{path}"
    return DocsPage(project, path, url, title, secs, urls=(url,))


FILLER = "Read the overview first. The settings apply to every build and every site. "
CACHE = page("acme/tool", "docs/cache.md", "Storage",
             ("Change the cache directory", FILLER + "Set the option in the file."))
MENTION = page("acme/tool", "docs/plugins.md", "Plugins",
               ("Run plugins", FILLER + "A plugin may change the cache directory."))
BUGS = page("acme/tool", "docs/bugs.md", "Reporting bugs",
            ("", "Give the steps to reproduce, the expected behavior, the actual behavior, your "
                 "environment, the operating system and the version, and the stack trace "
                 "with the error and exception."))
THEMES = page("acme/tool", "docs/themes.md", "Themes",
              ("Pick a dark palette", "Set the palette to slate for a dark color scheme."))


def test_a_heading_match_outranks_a_mention_in_the_text() -> None:
    index = DocsIndex([MENTION, CACHE])
    hits = index.search("How do I change the cache directory?")
    assert [h.page.path for h in hits] == ["docs/cache.md", "docs/plugins.md"]
    assert hits[0].section is not None and hits[0].section.heading == "Change the cache directory"
    assert 0 < hits[1].score < hits[0].score < 1


def test_title_words_weigh_more_than_body_words() -> None:
    cache = page("acme/tool", "docs/a.md", "Storage",
                 ("Change the cache directory", "The cache directory holds the builds."))
    themes = page("acme/tool", "docs/b.md", "Colours",
                  ("Pick a dark palette", "The dark palette holds the colours."))
    index = DocsIndex([cache, themes])
    assert index.search("dark palette", "also the cache directory")[0].page == themes
    assert index.search("cache directory", "also the dark palette")[0].page == cache
    weights = query_weights(["palett"], ["palett", "cach"])
    assert weights["palett"] > weights["cach"] == 1.0


TEMPLATED = """**Describe the bug**
A clear and concise description of what the bug is.

Dark palette is ignored, slate is never used for the color scheme.

**Steps to reproduce**
1. Set the palette
2. Build

**Expected behavior**
It looks dark.

**Environment**
- Operating system: Ubuntu 22.04
- Tool version: 1.4.2
- Python: 3.11

```
Traceback (most recent call last):
  File "run.py", line 3, in <module>
KeyError: 'palette'
```
    at build (/usr/lib/tool/index.js:10:3)
Error: exception in the build step
- [x] I have searched the existing issues
"""


def test_template_boilerplate_versions_and_logs_do_not_count() -> None:
    prose = question_prose(TEMPLATED)
    assert "Dark palette is ignored" in prose and "Set the palette" in prose
    for gone in ("Describe the bug", "clear and concise", "Steps to reproduce",
                 "Expected behavior", "Environment", "Ubuntu", "1.4.2", "Python", "Traceback",
                 "KeyError", "index.js", "Error:", "searched"):
        assert gone not in prose, gone
    # The bug-report page shares the template's words, the themes page the question's.
    index = DocsIndex([BUGS, THEMES])
    assert index.search("Broken colors", TEMPLATED)[0].page == THEMES
    assert index.search("Broken colors", TEMPLATED + "\nsteps to reproduce the "
                        "expected behavior of the environment")[0].page == THEMES


def test_search_among_one_projects_pages() -> None:
    other = page("beta/lib", "docs/cache.md", "Cache directory",
                 ("Change the cache directory", "Set the cache directory in the config."))
    index = DocsIndex([CACHE, other])
    assert index.search("change the cache directory")[0].page == other
    hits = index.search("change the cache directory", projects=("acme/tool",))
    assert [h.page for h in hits] == [CACHE]
    assert index.search("change the cache directory", projects=("gamma/none",)) == []


def test_eval_searches_the_project_a_question_was_asked_in() -> None:
    other = page("beta/lib", "docs/cache.md", "Cache directory",
                 ("Change the cache directory", "Set the cache directory in the config."))
    index = DocsIndex([CACHE, other])
    asked = Labelled("q1", "change the cache directory", "", CACHE.url,
                     "https://github.com/acme/tool/issues/1", "acme/tool")
    [mine], _ = rank(index, [asked])
    assert mine.pages[0] == CACHE.key and mine.baseline[:1] in ((), (CACHE.key,))
    [anywhere], _ = rank(index, [asked], by_project=False)
    assert anywhere.pages[0] == other.key


def test_a_labelled_question_names_the_repository_it_was_asked_in(tmp_path: Path) -> None:
    data = tmp_path / "q.jsonl"
    data.write_text(
        '{"id": "a", "title": "t", "gold_url": "u", "source_url": '
        '"https://github.com/acme/tool/issues/7"}\n'
        '{"id": "b", "title": "t", "gold_url": "u", "source_url": "https://example.org/t/1", '
        '"project": "beta/lib"}\n'
        '{"id": "c", "title": "t", "gold_url": "u"}\n', encoding="utf-8")
    assert [q.project for q in read_labelled(data)] == ["acme/tool", "beta/lib", ""]


def test_release_notes_are_never_suggested_but_stay_findable() -> None:
    notes = page("acme/tool", "docs/about/release-notes.md", "Storage",
                 ("Change the cache directory", "Change the cache directory with the new cache "
                                                "directory option; the cache directory moved."))
    index = DocsIndex([notes, CACHE, MENTION])
    hits = index.search("How do I change the cache directory?")
    assert [h.page.path for h in hits] == ["docs/cache.md", "docs/plugins.md"]
    assert index.find(notes.url) == notes
    # The same page under another name is what the search would suggest first; coverage
    # checks (`similar`) still see release notes.
    renamed = DocsPage(notes.project, "docs/about/storage.md", notes.url, notes.title,
                       notes.sections, notes.urls)
    assert DocsIndex([renamed, CACHE]).search("How do I change the cache directory?")[0].page \
        == renamed
    assert notes in [h.page for h in index.similar("change the cache directory")]
    assert [is_release_notes(page("a/b", p, "x")) for p in (
        "docs/changelog/index.md", "doc/CHANGELOG.md", "docs/release_notes.md",
        "docs/changes-to-config.md", "docs/releases.md")] == [True, True, True, False, False]
