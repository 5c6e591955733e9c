"""The self-contained HTML report: structure, escaping, embedded data, CSP, and (where Chromium is
installed) a real headless render: screenshot plus the table's JavaScript filters."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest

from docsgap.report import ReportExtras, extras_from_state, render, report_data, rows_from_state
from docsgap.report.html import embed_json
from docsgap.state import StateStore
from tests.unit.report_builder import DEMO_NOW, HOSTILE_TITLE, build_demo_state

REPO = Path(__file__).resolve().parents[2]
CHART_NAMES = ["signals-per-week", "top-pages", "time-to-close", "waiting-followup"]


class Page(HTMLParser):
    """Collects what the tests look at: tags, attributes, script and style bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self._attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in, self._attrs = tag, dict(attrs)

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append((self._attrs, data))
        elif self._in == "style":
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags
                if t == tag and all(a.get(k) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> StateStore:
    s = StateStore(tmp_path_factory.mktemp("html") / "state.db")
    build_demo_state(s, hostile=True)
    return s


@pytest.fixture(scope="module")
def html(store: StateStore) -> str:
    return render(rows_from_state(store), "html", generated_at=DEMO_NOW,
                  extras=extras_from_state(store), title="Forum → docs <report>")


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    p = Page()
    p.feed(html)
    p.close()
    return p


def test_structure(html: str, page: Page, store: StateStore) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert [a["data-chart"] for a in page.find("figure", **{"class": "chart"})] == CHART_NAMES
    assert len(page.find("svg")) == 4
    rows = page.find("tr")
    assert sum(1 for a in rows if a.get("data-i") is not None) == len(store.report_rows())
    heads = page.find("th")
    assert len(heads) == 9
    assert all(a["aria-sort"] == "none" for a in heads)
    for control in ("f-q", "f-gap", "f-state", "f-waiting", "f-count"):
        assert page.find("input", id=control) or page.find("select", id=control) or \
            page.find("span", id=control), control
    assert "<title>Forum → docs &lt;report&gt;</title>" in html


def test_self_contained_and_csp_pins_the_inline_code(html: str, page: Page) -> None:
    assert not page.find("link")
    assert not page.find("img")
    assert not page.find("iframe")
    assert all(a.get("src") is None for _, a in page.tags)
    assert "@import" not in html
    assert "url(" not in "".join(page.styles)
    [csp] = [a["content"] for a in page.find("meta") if a.get("http-equiv")]
    assert csp is not None
    assert "default-src 'none'" in csp
    [code] = [body for attrs, body in page.scripts if "type" not in attrs]
    [style] = page.styles

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"script-src {digest(code)}" in csp
    assert f"style-src {digest(style)}" in csp


def test_hostile_text_is_escaped(html: str, page: Page) -> None:
    # Exactly our two script elements: the title's <script> became text, and so did `</script>`.
    assert [a.get("type") for a, _ in page.scripts] == ["application/json", None]
    assert "<script>alert" not in html
    assert "<!-- @all" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    hrefs = [a.get("href") or "" for t, a in page.tags if t == "a"]
    assert hrefs
    assert all(h.startswith(("https://", "http://")) for h in hrefs)


def test_embedded_json_parses_and_matches_the_rows(page: Page, store: StateStore) -> None:
    [raw] = [body for attrs, body in page.scripts if attrs.get("id") == "docsgap-data"]
    assert "</" not in raw
    assert "<" not in raw
    data = json.loads(raw)
    rows, extras = rows_from_state(store), extras_from_state(store)
    assert data == report_data(rows, title="Forum → docs <report>", generated_at=DEMO_NOW,
                               extras=extras)
    assert any(r["thread_title"] == HOSTILE_TITLE for r in data["rows"])


def test_embed_json_escapes_everything_that_ends_a_script() -> None:
    text = embed_json({"t": "</script><!-- & \u2028"})
    assert not re.search(r"[<>&\u2028]", text)
    assert json.loads(text) == {"t": "</script><!-- & \u2028"}


def test_empty_report_still_has_four_charts(tmp_path: Path) -> None:
    page = Page()
    page.feed(render([], "html", generated_at=DEMO_NOW, extras=ReportExtras()))
    assert len(page.find("figure", **{"class": "chart"})) == 4
    assert not page.find("table")


# --- headless Chromium (skipped where it is not installed) ------------------------------------


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_report",
                                                  REPO / "scripts" / "render_report.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None,
                                    reason="chromium is not installed")


@needs_chromium
def test_chromium_screenshot(tmp_path: Path) -> None:
    script = _script()
    html = script.demo_html(tmp_path / "report.html")
    png = tmp_path / "report.png"
    script.screenshot(html, png, width=1280, height=1800)
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1280, 1800)
    assert png.stat().st_size > 50_000  # a blank page compresses to a few kB


@needs_chromium
def test_chromium_runs_the_filters_from_the_url_hash(tmp_path: Path) -> None:
    script = _script()
    html = script.demo_html(tmp_path / "report.html", hostile=True)
    dom = script.dump_dom(html.resolve().as_uri() + "#q=docker&state=closed&sort=8&dir=desc")
    assert 'data-ready="1"' in dom  # the CSP hash let our script run
    shown = re.findall(r'<tr data-i="\d+"(?![^>]*hidden)[^>]*>', dom)
    assert len(shown) == 3
    assert "Showing 3 of 21 links" in dom
    assert 'aria-sort="descending"' in dom
    assert "<script>alert" not in dom
    assert 'href="javascript:' not in dom
