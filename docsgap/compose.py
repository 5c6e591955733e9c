"""Every text docsgap writes (issues, notes, replies, follow-ups, draft MRs), composed from the
templates in `rules/templates/`, plus the hidden idempotency marker and the escaping that keeps
forum text inert: copied into GitLab it can run no quick action, mention nobody and create no
reference; posted on the forum it mentions nobody.

Templates are data: `{name}` placeholders (`{{`/`}}` for literal braces), no attribute access.
A line whose placeholders all render empty is dropped, which is how optional lines work.
`issue.md` and `mr_description.md` open with a `Title: ...` line and a blank line."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from docsgap.errors import RulesError
from docsgap.models import DocPage, Evidence, GapType, IssueDraft, Signal
from docsgap.paths import templates_dir

ZWSP = "\u200b"
"""Zero-width space: after `@`, `#`, ... it stops GitLab's and Discourse's reference and mention
patterns (CONTRACTS C2: backslash escapes do not, the filters run on the rendered text)."""

TITLE_LIMIT = 255
QUOTE_LIMIT = 300
"""Characters kept of each quoted piece of evidence."""
QUOTES_PER_THREAD = 3
THREADS_WITH_QUOTES = 10
"""Threads shown with their quotes; any further thread is listed by link only."""
_THREAD_TITLE_LIMIT = 120
_URL_LIMIT = 2000

# --- markers ------------------------------------------------------------------------------

_MARKER_RE = re.compile(r"<!-- docsgap:key=([A-Za-z0-9%:/._=+,;()\[\]?~-]*) -->")
MARKER_PREFIX = "<!-- docsgap:key="
"""How every marker starts: a cheap pre-filter (e.g. in SQL) before `find_markers`."""


def marker(key: str) -> str:
    """The hidden HTML comment that identifies what docsgap wrote for `key`. The key is
    percent-encoded so it cannot close the comment (`-->`) or mention anyone (`@`)."""
    encoded = quote(key, safe=":/=+,;()[]?")
    encoded = re.sub(r"-(?=-|$)", "%2D", encoded)  # no `--` inside, no `-` before ` -->`
    return f"{MARKER_PREFIX}{encoded} -->"


def find_markers(text: str) -> list[str]:
    """The keys of every docsgap marker in `text`, in order."""
    return [unquote(m.group(1)) for m in _MARKER_RE.finditer(text)]


# --- neutralising forum text ----------------------------------------------------------------

_DROP_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
"""Control characters and bidi overrides (text that displays differently than it reads)."""
_BREAKS_RE = re.compile(r"\r\n?|[\v\f\x1c-\x1e\x85\u2028\u2029]")
_URL_RE = re.compile(r"https?://[^\s<>\"'`\[\]{}|\\^\u200b]+", re.I)
_TRACKER_PATH_RE = re.compile(
    r"/(?:issues|merge_requests|epics|milestones|snippets|commits?|work_items|wikis|labels"
    r"|iterations|alert_management|vulnerabilities|requirements|designs)(?:/|$)"
)
_HEX_RE = re.compile(r"(?=[a-fA-F]*\d)[0-9a-fA-F]{7,}|(?<![^\W_])[a-fA-F]{7,}(?![^\W_])")
_GITLAB_SIGILS = "@#!~%&$^["
_GITLAB_CHAR_RE = re.compile(r"[\\&<>`\[\]@#!~%$^]|\*(?=iteration:)|(?<![\w.])www(?=\.)", re.I)


def _clean(text: str) -> str:
    return _DROP_RE.sub("", _BREAKS_RE.sub("\n", text))


def _hex_chunks(text: str) -> str:
    # GitLab links a 7+ hex run that names a commit: break every run holding a digit, and whole
    # words of hex letters ("deadbeef"), but not words like "feedback".
    return _HEX_RE.sub(lambda m: ZWSP.join(re.findall(".{1,6}", m.group(0))), text)


def _split_urls(text: str) -> list[tuple[bool, str]]:
    """(is_url, piece) pairs; trailing punctuation stays outside the URL."""
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for m in _URL_RE.finditer(text):
        url = m.group(0)
        while url[-1] in ".,;:!?'\"*_)" and not (url[-1] == ")" and url.count("(") >=
                                                  url.count(")")):
            url = url[:-1]
        pieces.append((False, text[pos : m.start()]))
        pieces.append((True, url))
        pos = m.start() + len(url)
    pieces.append((False, text[pos:]))
    return [p for p in pieces if p[1]]


def _tracker_like(url: str) -> bool:
    """A URL GitLab could turn into a reference ("mentioned in" notes on the target): any
    instance's issue, MR, epic... path. Files (`/-/blob/`) and docs pages stay links."""
    try:
        return bool(_TRACKER_PATH_RE.search(urlsplit(url).path))
    except ValueError:
        return True


def _gitlab_char(m: re.Match[str], text: str) -> str:
    c = m.group(0)
    follows = text[m.end() : m.end() + 1]
    zw = ZWSP if follows != ZWSP and (c == "@" or follows and not follows.isspace()) else ""
    if c == "&":
        return "&amp;" + zw
    if c in "<>":
        return "&lt;" if c == "<" else "&gt;"
    if c in "\\`]":
        return "\\" + c
    if c == "[":
        return "\\[" + zw
    if c in _GITLAB_SIGILS or c == "*":
        return c + zw
    return c + ZWSP  # `www` before a dot: no bare-domain autolink


def _gitlab_text(text: str) -> str:
    text = _hex_chunks(text)
    return _GITLAB_CHAR_RE.sub(lambda m: _gitlab_char(m, text), text)


def for_gitlab(text: str) -> str:
    """Forum text made inert for a GitLab description or note, keeping it readable.

    No quick action (a leading `/` is backslash-escaped on every line), no HTML (`<`, `>`, `&`
    become entities), no Markdown link, image, code span or fence (`[`, `]`, backtick escaped),
    no mention or reference (a zero-width space after `@ # ! ~ % & $ ^ [`, and inside 7+ hex runs).
    Web URLs become `<autolinks>` (reference filters skip links); URLs GitLab could turn into
    issue/MR references are shown as text with a zero-width space after the scheme."""
    lines = []
    for line in _clean(text).split("\n"):
        out = []
        for is_url, piece in _split_urls(line):
            if is_url and not _tracker_like(piece):
                out.append(f"<{piece}>")
            elif is_url:
                scheme, _, rest = piece.partition("://")
                out.append(f"{scheme}:{ZWSP}//" + _gitlab_text(rest))
            else:
                out.append(_gitlab_text(piece))
        done = "".join(out)
        body = done.lstrip()
        if body.startswith(("/", "::")):
            done = done[: len(done) - len(body)] + ("\\" + body if body[0] == "/" else
                                                   ":" + ZWSP + body[1:])
        lines.append(done)
    return "\n".join(lines)


_TITLE_CHAR_RE = re.compile(
    r"@(?!\u200b)|[#!~%&$^\[](?=[^\s\u200b])|\*(?=iteration:)|(?<![\w.])www(?=\.)", re.I
)


def gitlab_title(text: str, limit: int = TITLE_LIMIT) -> str:
    """One line of forum text for an issue or MR title. Titles are not Markdown (backslashes
    and entities would show), so only the zero-width breaks apply; URLs are not autolinked."""
    text = " ".join(_clean(text).split())
    text = _URL_RE.sub(lambda m: m.group(0).replace("://", ":" + ZWSP + "//", 1), text)
    text = _hex_chunks(text)
    text = _TITLE_CHAR_RE.sub(lambda m: m.group(0) + ZWSP, text)
    return _trim(text, limit)


def gitlab_quote(text: str, *, indent: str = "") -> str:
    """`text` neutralised and set as a blockquote (each line `> `-prefixed)."""
    return "\n".join(f"{indent}> {line}".rstrip() for line in for_gitlab(text).split("\n"))


_FORUM_CHAR_RE = re.compile(r"[\\<&`\[\]]|@(?!\u200b)")
_FORUM_ESCAPES = {"<": "&lt;", "&": "&amp;", "@": "@" + ZWSP}


def for_forum(text: str) -> str:
    """Text made inert for a Discourse post: no @mention (zero-width space after `@`), no HTML
    or entity tricks (`<`, `&` escaped), no BBCode or Markdown link/image/quote (`[`, `]`,
    backtick escaped), and no URL alone on a line (it would be oneboxed)."""
    escaped = _FORUM_CHAR_RE.sub(
        lambda m: _FORUM_ESCAPES.get(m.group(0), "\\" + m.group(0)), _clean(text)
    )
    return "\n".join(
        f"Link: {line}" if _URL_RE.fullmatch(line.strip()) else line
        for line in escaped.split("\n")
    )


def _link_target(url: str) -> str:
    """A URL safe inside a Markdown `( )` destination, or "" unless it is http(s)."""
    url = "".join(_clean(url).split())
    if not re.match(r"https?://", url, re.I):
        return ""
    # `&name;` would be decoded as an entity inside the destination: encode that `&`.
    return quote(re.sub(r"&(?=#?\w+;)", "%26", url), safe=":/?#[]!$&'*+,;=%~._-")


def _trim(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


# --- templates ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Spec:
    fields: frozenset[str]
    """Placeholders the body may use."""
    required: frozenset[str] = frozenset()
    title_fields: frozenset[str] | None = None
    """Placeholders of the `Title:` line; `None`: the template has no title line."""
    forum: bool = False
    """Posted on the forum (else GitLab): decides which checks apply to the template text."""


_PAGE_FIELDS = ("page_url", "page_link", "page_name", "source", "section")
SPECS: Mapping[str, _Spec] = {
    "issue.md": _Spec(
        frozenset({"gap_label", "gap_type", "subject", "thread_title", "threads", "thread_count",
                   "rules", "docs_evidence", *_PAGE_FIELDS}),
        frozenset({"threads"}),
        frozenset({"gap_label", "gap_type", "subject", "thread_title", "page_name", "section"})),
    "evidence_note.md": _Spec(
        frozenset({"item_url", "threads", "thread_count", "gap_labels", "rules"}),
        frozenset({"threads"})),
    "reply.md": _Spec(
        frozenset({"item_url", "item_noun", "state_note", "gap_phrase", *_PAGE_FIELDS}),
        frozenset({"item_url"}), forum=True),
    "followup.md": _Spec(
        frozenset({"item_url", "item_noun", "done_phrase", *_PAGE_FIELDS}),
        frozenset({"item_url"}), forum=True),
    "docs_reply.md": _Spec(
        frozenset({"page_link", "page_title", "section_title", "page_url"}),
        frozenset({"page_link"}), forum=True),
    "mr_description.md": _Spec(
        frozenset({"subject", "file_path", "summary", "issue_url", "threads", "thread_count",
                   *_PAGE_FIELDS}),
        frozenset({"threads"}),
        frozenset({"subject", "file_path", "page_name", "section"})),
}
"""Each template's placeholders: allowed, required, and those of the `Title:` line."""

_PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")


@dataclass(frozen=True, slots=True)
class _Template:
    title: str | None
    body: str


def _path(name: str, templates: Path | None) -> Path:
    """The user's template when `templates` has one, else the shipped one."""
    if templates is not None and (templates / name).is_file():
        return templates / name
    return templates_dir() / name


def _parse(text: str) -> _Template:
    first, _, rest = text.partition("\n")
    if first.startswith("Title:"):
        return _Template(first.removeprefix("Title:").strip(), rest.lstrip("\n"))
    return _Template(None, text)


def _load(name: str, templates: Path | None) -> _Template:
    path = _path(name, templates)
    try:
        return _parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([f"{path}:0: cannot read template: {exc}"]) from exc


def _render(template: str, values: Mapping[str, str], fields: frozenset[str]) -> str:
    """Substitute `{name}` (names outside `fields` stay as written); drop every line whose
    placeholders are all known and came out empty; squeeze blank runs."""

    def sub(m: re.Match[str]) -> str:
        token, name = m.group(0), m.group(1)
        if name is None:
            return token[0] if token in ("{{", "}}") else token
        return values.get(name, "") if name in fields else token

    lines = []
    for line in template.split("\n"):
        names = [m.group(1) for m in _PLACEHOLDER_RE.finditer(line) if m.group(1) is not None]
        if names and all(n in fields and not values.get(n) for n in names):
            continue
        lines.append(_PLACEHOLDER_RE.sub(sub, line).rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _body(name: str, values: Mapping[str, str], key: str, templates: Path | None) -> str:
    text = _render(_load(name, templates).body, values, SPECS[name].fields)
    return f"{text}\n\n{marker(key)}\n"


def _title(name: str, raw: Mapping[str, str], templates: Path | None, default: str) -> str:
    """The `Title:` line rendered with raw values, then neutralised once as a whole."""
    line = _load(name, templates).title or default
    fields = SPECS[name].title_fields or frozenset()
    return gitlab_title(" ".join(_render(line, raw, fields).split()))


def check_templates(dir: Path | None = None) -> list[str]:
    """Every template problem as `file:line: message`: missing or unreadable file, missing
    `Title:` line, unknown or missing placeholder, stray brace, a GitLab template line that
    would run a quick action, an @mention in a forum template, an unknown file in `dir`.
    `dir` is a user templates directory laid over the shipped one."""
    problems: list[str] = []
    if dir is not None:
        if not dir.is_dir():
            return [f"{dir}:0: templates directory does not exist"]
        problems += [f"{p}:0: unknown template (docsgap reads {', '.join(SPECS)})"
                     for p in sorted(dir.glob("*.md")) if p.name not in SPECS]
    for name, spec in SPECS.items():
        path = _path(name, dir)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}:0: missing or unreadable template: {exc}")
            continue
        problems += _check_text(path, text, spec)
    return problems


def _check_text(path: Path, text: str, spec: _Spec) -> list[str]:
    problems = []
    lines = text.split("\n")
    titled = lines[0].startswith("Title:")
    if spec.title_fields is not None and not titled:
        problems.append(f"{path}:1: the first line must be `Title: ...`")
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        is_title = titled and number == 1 and spec.title_fields is not None
        allowed = spec.title_fields if is_title and spec.title_fields else spec.fields
        for m in _PLACEHOLDER_RE.finditer(line):
            name = m.group(1)
            if m.group(0) in ("{", "}"):
                problems.append(f"{path}:{number}: stray `{m.group(0)}` (write `{{{{` or `}}}}`)")
            elif name is not None and name not in allowed:
                where = "title" if is_title else "body"
                problems.append(f"{path}:{number}: unknown placeholder {{{name}}} in the {where}"
                                f" (known: {', '.join(sorted(allowed))})")
            elif name is not None:
                seen.add(name)
        static = _PLACEHOLDER_RE.sub("", line)
        if not spec.forum and re.match(r"/\w", static.lstrip()):
            problems.append(f"{path}:{number}: a line starting with `/` runs a GitLab quick action")
        if spec.forum and re.search(r"(?<![\w`])@\w", static):
            problems.append(f"{path}:{number}: `@` would mention someone on the forum")
        if spec.forum and re.fullmatch(r"\s*(?:\{(?:page_url|item_url)\}|https?://\S+)\s*", line):
            problems.append(f"{path}:{number}: a URL alone on a line is oneboxed on the forum")
    problems += [f"{path}:0: missing placeholder {{{n}}}" for n in sorted(spec.required - seen)]
    return problems


# --- what the texts say -----------------------------------------------------------------------

_GAP_LABEL = {
    GapType.INCORRECT: "Incorrect docs", GapType.OUTDATED: "Outdated docs",
    GapType.CONFUSING: "Confusing docs", GapType.MISSING: "Missing docs",
    GapType.BROKEN_LINK: "Broken link in docs",
}
_GAP_PHRASE = {
    GapType.INCORRECT: "that the docs seem to be wrong here",
    GapType.OUTDATED: "that the docs look out of date",
    GapType.CONFUSING: "that the docs are hard to follow here",
    GapType.MISSING: "that the docs do not cover this yet",
    GapType.BROKEN_LINK: "the broken link in the docs",
}
_NOUN = {"issue": "issue", "merge_request": "merge request"}
_PLAIN_URL_RE = re.compile(r"https?://[^\s<>()\[\]`\"'\\]+")
NEW_ITEM_PLACEHOLDER = "<link to the new issue>"
"""Shown by `review` before the issue exists (the same string as `apply.NEW_ISSUE_PLACEHOLDER`)."""


def _one_line(text: str, limit: int = 200) -> str:
    """Forum-supplied text for inside a line: one line, trimmed."""
    return _trim(" ".join(_clean(text).split()), limit)


def _item_url(url: str, escape: Callable[[str], str]) -> str:
    """An issue/MR URL from GitLab goes in verbatim (apply and review look for it in posts);
    anything that is not a plain web URL is escaped like forum text."""
    if _PLAIN_URL_RE.fullmatch(url) or url == NEW_ITEM_PLACEHOLDER:
        return url
    return escape(_one_line(url))


def _page_name(page: DocPage) -> str:
    return page.path or re.sub(r"^https?://", "", page.url).rstrip("/")


def _page_values(page: DocPage | None, escape: Callable[[str], str]) -> dict[str, str]:
    """Placeholders about the docs page, escaped with `escape` (GitLab or forum)."""
    if page is None:
        return {}
    target = _link_target(page.url)
    target = target if len(target) <= _URL_LIMIT else ""  # shown as (trimmed) text instead
    name = _one_line(_page_name(page))
    if escape is for_forum:
        url = target or escape(_one_line(page.url))
        link = f"[{escape(name)}]({target})" if target else escape(name)
    else:
        url = link = escape(target or _one_line(page.url))  # an <autolink>: not a reference
    source = f"{page.path} in {page.project}" if page.project else page.path or ""
    values = {
        "page_url": url, "page_link": link, "page_name": escape(name),
        "source": escape(_one_line(source)), "section": escape(_one_line(page.section or "")),
    }
    return {k: v for k, v in values.items() if v}


def _rules_of(signals: Sequence[Signal]) -> list[str]:
    return list(dict.fromkeys(r for s in signals for r in
                              [*(e.rule_id for e in s.evidence), *s.rules]))


def _code(items: Sequence[str]) -> str:
    """Rule ids as code spans (reference filters skip code)."""
    return ", ".join("`" + " ".join(_clean(i).replace("`", "'").split()) + "`" for i in items)


def _gap_labels(signals: Sequence[Signal]) -> str:
    return ", ".join(dict.fromkeys(_GAP_LABEL[s.gap_type].lower() for s in signals))


def _threads_block(signals: Sequence[Signal]) -> tuple[str, int]:
    """One list item per thread (signals of one thread merge): title, gap types and link, then
    its trimmed quotes and rule ids. Threads past `THREADS_WITH_QUOTES` get the link only."""
    by_thread: dict[str, list[Signal]] = {}
    for s in signals:
        by_thread.setdefault(s.thread_url, []).append(s)
    items = []
    for n, (url, group) in enumerate(by_thread.items()):
        title = for_gitlab(_trim(_one_line(group[0].thread_title), _THREAD_TITLE_LIMIT))
        link = for_gitlab(_one_line(url, _URL_LIMIT))
        head = f"- **{title or 'Untitled thread'}** ({_gap_labels(group)}): {link}"
        if n >= THREADS_WITH_QUOTES:
            items.append(head)
            continue
        quotes = []
        # Several rules often fire on one sentence: quote each sentence once.
        unique: dict[tuple[int | None, str], Evidence] = {}
        for e in (e for s in group for e in s.evidence):
            unique.setdefault((e.post_number, " ".join(e.text.split())), e)
        for e in list(unique.values())[:QUOTES_PER_THREAD]:
            where = f" (post {e.post_number})" if e.post_number else ""
            quotes.append(gitlab_quote(_trim(e.text, QUOTE_LIMIT) + where, indent="  "))
        rules = _rules_of(group)
        parts = [head, "\n  >\n".join(quotes), f"  Rules: {_code(rules)}" if rules else ""]
        items.append("\n\n".join(p for p in parts if p))
    return "\n\n".join(items), len(by_thread)


def _count(n: int) -> str:
    return f"{n} forum thread" + ("" if n == 1 else "s")


# --- public composers -------------------------------------------------------------------------


def labels_for(
    gap_type: GapType, base: Sequence[str], by_gap: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """`base` labels plus the gap type's own, without blanks or duplicates, order kept."""
    labels = [*base, *by_gap.get(gap_type.value, ())]
    return tuple(dict.fromkeys(label.strip() for label in labels if label.strip()))


def issue_draft(
    signals: Sequence[Signal], *, labels: Sequence[str], key: str, templates: Path | None = None
) -> IssueDraft:
    """The issue for one docs gap reported in one or more threads (the first signal leads):
    docs page, source file and section, gap type, quoted evidence, every thread, the marker."""
    if not signals:
        raise ValueError("an issue needs at least one signal")
    lead = signals[0]
    page = next((s.page for s in signals if s.page is not None), None)
    thread_title = _trim(_one_line(lead.thread_title), _THREAD_TITLE_LIMIT)
    name = _one_line(_page_name(page)) if page else ""
    section = _one_line(page.section or "") if page else ""
    where = f"{name} ({section})" if section else name
    subject = f"{where}: {thread_title}" if where and thread_title else where or thread_title
    raw = {"gap_label": _GAP_LABEL[lead.gap_type], "gap_type": lead.gap_type.value,
           "subject": subject, "thread_title": thread_title, "page_name": name,
           "section": section}
    threads, count = _threads_block(signals)
    values = {
        **_page_values(page, for_gitlab), **{k: for_gitlab(v) for k, v in raw.items()},
        "threads": threads, "thread_count": _count(count), "rules": _code(_rules_of(signals)),
        # What the local docs index said (docsgap.docs.checks): docsgap's text, docs URLs.
        "docs_evidence": for_gitlab(_one_line(lead.docs_note, 600)) if lead.docs_note else "",
    }
    title = _title("issue.md", raw, templates, "{gap_label}: {subject}")
    return IssueDraft(title, _body("issue.md", values, key, templates), tuple(labels))


def evidence_note(
    item_url: str, signals: Sequence[Signal], *, key: str, templates: Path | None = None
) -> str:
    """The one note on an existing issue/MR listing every linked thread (gap type, link,
    quotes); `apply` rewrites it in place (same marker) when more threads arrive."""
    threads, count = _threads_block(signals)
    values = {
        "item_url": _item_url(item_url, for_gitlab), "thread_count": _count(count),
        "threads": threads or "_No thread details are available._",
        "gap_labels": _gap_labels(signals), "rules": _code(_rules_of(signals)),
    }
    return _body("evidence_note.md", values, key, templates)


def reply_text(
    *, item_url: str, item_kind: str, item_state: str, page: DocPage | None, gap_type: GapType,
    key: str, templates: Path | None = None,
) -> str:
    """The forum reply that links the issue or MR and the docs page, thanks the author and
    invites them to comment or contribute. Never an @mention."""
    values = {
        **_page_values(page, for_forum),
        "item_url": _item_url(item_url, for_forum), "item_noun": _NOUN.get(item_kind, "issue"),
        "state_note": {"merged": "(already merged: the updated page may be live)",
                       "closed": "(already closed: the fix may be live, please check the page)",
                       }.get(item_state, ""),
        "gap_phrase": _GAP_PHRASE[gap_type],
    }
    return _body("reply.md", values, key, templates)


def followup_text(
    *, item_url: str, item_kind: str, page: DocPage | None, key: str,
    templates: Path | None = None,
) -> str:
    """The forum follow-up once the issue is closed as done or the MR merged."""
    values = {
        **_page_values(page, for_forum),
        "item_url": _item_url(item_url, for_forum), "item_noun": _NOUN.get(item_kind, "issue"),
        "done_phrase": "merged" if item_kind == "merge_request" else "closed as fixed",
    }
    return _body("followup.md", values, key, templates)


def docs_reply_text(
    *, page_url: str, page_title: str, section_title: str = "", anchor: str = "", key: str,
    templates: Path | None = None,
) -> str:
    """A docs-first reply: the docs page (and section) that answers an unanswered question,
    linked by its title. Docs text is GitLab's own, still escaped like forum text."""
    target = _link_target(f"{page_url}#{anchor}" if anchor else page_url)
    title = _one_line(page_title) or _page_name(DocPage(page_url))
    section = _one_line(section_title)
    label = for_forum(f"{title}: {section}" if section else title)
    values = {
        "page_link": f"[{label}]({target})" if target else label,
        "page_title": for_forum(title), "section_title": for_forum(section),
        "page_url": target or for_forum(_one_line(page_url)),
    }
    return _body("docs_reply.md", values, key, templates)


_DRAFT_RE = re.compile(r"^(?:\s*(?:draft:|\[draft\]|\(draft\)))+\s*", re.I)


def _mr_raw(page: DocPage | None, summary: str, file_path: str | None) -> dict[str, str]:
    first = _DRAFT_RE.sub("", _one_line(_clean(summary).strip().split("\n")[0]))
    path = _one_line(file_path or (page.path if page else None) or "")
    subject = first or (f"Update {path} from forum feedback" if path else
                        "Update the docs from forum feedback")
    return {"subject": _trim(subject, 200), "file_path": path,
            "page_name": _one_line(_page_name(page)) if page else "",
            "section": _one_line(page.section or "") if page else ""}


def mr_title(
    *, summary: str = "", page: DocPage | None = None, file_path: str | None = None,
    templates: Path | None = None,
) -> str:
    """The draft MR's title; always starts with `Draft: ` so GitLab opens it as a draft."""
    raw = _mr_raw(page, summary, file_path)
    title = _title("mr_description.md", raw, templates, "Draft: {subject}")
    return gitlab_title("Draft: " + _DRAFT_RE.sub("", title))


def mr_description(
    *, thread_urls: Sequence[str], issue_url: str | None, page: DocPage | None, summary: str,
    key: str, file_path: str | None = None, templates: Path | None = None,
) -> str:
    """The draft MR's description: the summary, the issue it closes, the docs page and
    source file, every forum thread, and the marker."""
    urls = list(dict.fromkeys(u for u in thread_urls if u.strip()))
    raw = _mr_raw(page, summary, file_path)
    values = {
        **_page_values(page, for_gitlab), **{k: for_gitlab(v) for k, v in raw.items()},
        "summary": for_gitlab(_trim(summary, 10_000)),
        "issue_url": _item_url(issue_url, for_gitlab) if issue_url else "",
        "threads": "\n".join(f"- {for_gitlab(u)}" for u in urls), "thread_count": _count(len(urls)),
    }
    return _body("mr_description.md", values, key, templates)
