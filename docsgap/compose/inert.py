"""Forum text made inert: copied into GitLab it can run no quick action, mention nobody and
create no reference; posted on the forum it mentions nobody (CONTRACTS C2)."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

ZWSP = "\u200b"
"""Zero-width space: after `@`, `#`, ... it stops GitLab's and Discourse's reference and mention
patterns (CONTRACTS C2: backslash escapes do not, the filters run on the rendered text)."""

TITLE_LIMIT = 255
URL_LIMIT = 2000

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


def clean_text(text: str) -> str:
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
    instance's issue, MR, epic... path, also in the query or fragment (two URLs run together
    read as one). Files (`/-/blob/`) and docs pages stay links."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    return any(_TRACKER_PATH_RE.search(part) for part in (parts.path, parts.query,
                                                              parts.fragment))


def _gitlab_char(m: re.Match[str], text: str, after: str) -> str:
    c = m.group(0)
    follows = text[m.end() : m.end() + 1] or after
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


def _gitlab_text(text: str, after: str = "") -> str:
    """`after`: the first character of what follows this piece on the line (a sigil at the
    end of a piece still reads as one with the URL after it: `~` + `https` is a label)."""
    text = _hex_chunks(text)
    out = _GITLAB_CHAR_RE.sub(lambda m: _gitlab_char(m, text, after), text)
    return out.replace("://", ":" + ZWSP + "//")  # a scheme with no host left to link


def for_gitlab(text: str) -> str:
    """Forum text made inert for a GitLab description or note, keeping it readable.

    No quick action (a leading `/` is backslash-escaped on every line), no HTML (`<`, `>`, `&`
    become entities), no Markdown link, image, code span or fence (`[`, `]`, backtick escaped),
    no mention or reference (a zero-width space after `@ # ! ~ % & $ ^ [`, and inside 7+ hex runs).
    Web URLs become `<autolinks>` (reference filters skip links); URLs GitLab could turn into
    issue/MR references are shown as text with a zero-width space after the scheme."""
    lines = []
    for line in clean_text(text).split("\n"):
        out = []
        pieces = _split_urls(line)
        for n, (is_url, piece) in enumerate(pieces):
            if is_url and not _tracker_like(piece):
                out.append(f"<{piece}>")
            elif is_url:
                scheme, _, rest = piece.partition("://")
                out.append(f"{scheme}:{ZWSP}//" + _gitlab_text(rest))
            else:
                after = pieces[n + 1][1][:1] if n + 1 < len(pieces) else ""
                out.append(_gitlab_text(piece, after))
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
    text = " ".join(clean_text(text).split())
    text = text.replace("://", ":" + ZWSP + "//")  # no autolink, with or without a host
    text = _hex_chunks(text)
    text = _TITLE_CHAR_RE.sub(lambda m: m.group(0) + ZWSP, text)
    return trim(text, limit)


def gitlab_quote(text: str, *, indent: str = "") -> str:
    """`text` neutralised and set as a blockquote (each line `> `-prefixed)."""
    return "\n".join(f"{indent}> {line}".rstrip() for line in for_gitlab(text).split("\n"))


_FORUM_CHAR_RE = re.compile(r"[\\<&`\[\]]|@(?!\u200b)")
_FORUM_ESCAPES = {"<": "&lt;", "&": "&amp;", "@": "@" + ZWSP}
_LONE_URL_RE = re.compile(r"\s*https?://\S*\s*", re.I)
"""A line Discourse could onebox: a URL and nothing but what may run on from it."""


def for_forum(text: str) -> str:
    """Text made inert for a Discourse post: no @mention (zero-width space after `@`), no HTML
    or entity tricks (`<`, `&` escaped), no BBCode or Markdown link/image/quote (`[`, `]`,
    backtick escaped), and no URL alone on a line (it would be oneboxed)."""
    escaped = _FORUM_CHAR_RE.sub(
        lambda m: _FORUM_ESCAPES.get(m.group(0), "\\" + m.group(0)), clean_text(text)
    )
    # Broader than a URL: linkify may take trailing characters (`\\`, `]`) into the link.
    return "\n".join(
        f"Link: {line}" if _LONE_URL_RE.fullmatch(line) else line
        for line in escaped.split("\n")
    )


def link_target(url: str) -> str:
    """A URL safe inside a Markdown `( )` destination, or "" unless it is http(s)."""
    url = "".join(clean_text(url).split())
    if not re.match(r"https?://", url, re.I):
        return ""
    # `&name;` would be decoded as an entity inside the destination: encode that `&`.
    return quote(re.sub(r"&(?=#?\w+;)", "%26", url), safe=":/?#[]!$&'*+,;=%~._-")


def trim(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"
