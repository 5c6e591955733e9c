"""What of a question's post is searched in the docs: its prose, without what issue and forum
templates put around it (section labels such as "Steps to reproduce", checklists, environment
and version lines) and without code, logs and stack traces, whose words name the asker's
program rather than the docs topic."""

from __future__ import annotations

import re

from docsgap.text.textnorm import strip_markup

# A line that is only a template's section label ("**Expected behavior:**", "### Environment").
_LABEL_RE = re.compile(
    r"^(?:#+\s*|[*_]{2})?\s*(?:describe the (?:bug|problem|issue)|steps to reproduce|"
    r"(?:to|how to) reproduce|(?:what is the )?(?:current|expected|actual|observed) "
    r"(?:behaviou?r|result|outcome)s?|additional (?:context|information|info)|screenshots?|"
    r"(?:your )?environment|versions?|system info(?:rmation)?|(?:minimal )?reproduction|"
    r"description|summary|problem|question|context|possible solution|checklist|logs?|output|"
    r"input|configuration|config|details|motivation|use case|proposal|feature request|"
    r"bug report|what happened\??|what did you expect[^\n]*|code sample|example)"
    r"\s*(?:[*_]{2})?\s*:?\s*(?:[*_]{2})?\s*$", re.I)
# "- Prettier version: 3.5.3", "**OS:** Windows 11": a short key and a short value...
_KEY_VALUE_RE = re.compile(r"^(?:[-*]\s*)?[*_]*[A-Za-z][\w .()/-]{0,30}[*_]*\s*:[*_]*\s*\S")
# ... that names a version or a platform.
_PLATFORM_RE = re.compile(r"\d+\.\d+|\bv\d|\bversion\b|\bos\b|windows|macos|linux|ubuntu|"
                          r"\bnode|python|\bnpm\b|yarn|browser|chrome|firefox", re.I)
# Log lines, stack frames, shell prompts.
_LOG_RE = re.compile(r"^(?:at\s+\S+\s*\(|at\s+\S+:\d|File \"|Traceback|[\w.]*(?:Error|Exception)"
                     r"\b|\$ |> |INFO\b|WARN|ERROR|DEBUG|\[\d)", re.I)
_CHECKBOX_RE = re.compile(r"^[-*]\s*\[[ xX]?\]")
_TEMPLATE_PHRASES = ("clear and concise description", "if applicable", "add any other context",
                     "i have searched", "search the existing", "to help us", "please complete",
                     "make sure you")
KEY_VALUE_WORDS = 8
"""A key-value line longer than this many words is prose, not an environment line."""


def question_prose(text: str) -> str:
    """The lines of a post that ask something: markup, code blocks (fenced or indented), log
    lines, template labels, checklists and version lines dropped."""
    out = []
    for line in strip_markup(text).splitlines():
        if not line.strip() or line.startswith(("    ", "\t")):
            continue
        s = line.strip()
        if _LABEL_RE.match(s) or _CHECKBOX_RE.match(s) or _LOG_RE.match(s):
            continue
        low = s.lower()
        if any(p in low for p in _TEMPLATE_PHRASES):
            continue
        if (_KEY_VALUE_RE.match(s) and len(s.split()) <= KEY_VALUE_WORDS
                and _PLATFORM_RE.search(s)):
            continue
        if sum(c.isalpha() for c in s) < 0.5 * len(s):
            continue  # mostly symbols and digits: a code or log line outside a fence
        out.append(s)
    return "\n".join(out)
