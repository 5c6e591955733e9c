"""What the learned scorer sees of a post: word uni- and bigrams, in-word character n-grams and
the rule hits (and vetoes) in it. Pure stdlib; shared by training and inference so both see
exactly the same features.

Feature names are plain strings with a block prefix (`w:` word, `b:` bigram, `c:` character
n-gram, `r:` rule, `g:` gap type of a rule hit, `x:` veto by a canceller). A post's value for a
feature is its count divided by the square root of its block's total count (rule features count
once each). The score is linear, so scoring each sentence alone tells which one carried it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

TOKEN_RE = re.compile(r"<docslink>|<weblink>|[^\W_]+(?:'[^\W_]+)?")
CHAR_SIZES = (3, 4, 5)
MAX_CHAR_TOKEN = 24
"""Longer tokens (hashes, identifiers, run-together words) give no character n-grams."""
_NUMBER_RE = re.compile(r"\d{5,}|\d+(?:\.\d+)+")
_DIGIT_RE = re.compile(r"\d")
def tokens(norm: str) -> list[str]:
    """Words of a lower-cased sentence; long numbers and versions become one token each."""
    if _DIGIT_RE.search(norm) is not None:
        norm = _NUMBER_RE.sub("0", norm)
    found: list[str] = TOKEN_RE.findall(norm)
    return found


def char_grams(token: str) -> list[str]:
    """In-word character n-grams of one token, with `<` `>` marking the word's edges."""
    if token[0] == "<" or len(token) > MAX_CHAR_TOKEN:
        return []
    padded = f"<{token}>"
    return [f"c:{padded[i:i + n]}" for n in CHAR_SIZES for i in range(len(padded) - n + 1)]


def word_features(toks: Sequence[str]) -> list[str]:
    """Unigrams and bigrams of a sentence's tokens."""
    out = [f"w:{t}" for t in toks]
    out += [f"b:{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]
    return out


def post_tokens(norms: Sequence[str]) -> list[str]:
    """The tokens of a post's lower-cased sentences, in order (bigrams run across sentences)."""
    return tokens("\n".join(norms))


def rule_names(rule_id: str, gap_type: str) -> tuple[str, str]:
    """The features a surviving rule hit adds to its post."""
    return f"r:{rule_id}", f"g:{gap_type}"


def veto_name(canceller_id: str) -> str:
    """The feature a vetoed hit adds to its post."""
    return f"x:{canceller_id}"


def post_vector(
    norms: Sequence[str], rules: Iterable[str] = (), *, chars: bool = True
) -> dict[str, float]:
    """A post's feature values: per-block counts / sqrt(block total); rules 1 each. Without
    `chars`, no character n-grams (the gap-type scorer does not use them)."""
    toks = post_tokens(norms)
    words = Counter(word_features(toks))
    grams: Counter[str] = Counter()
    for tok in toks if chars else ():
        grams.update(char_grams(tok))
    out: dict[str, float] = {}
    for counts in (words, grams):
        total = sum(counts.values())
        if total:
            scale = total ** -0.5
            out.update((k, v * scale) for k, v in counts.items())
    out.update(dict.fromkeys(rules, 1.0))
    return out
