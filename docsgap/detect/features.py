"""What the learned scorer sees of a post: word uni- and bigrams, in-word character n-grams and
the rule hits (and vetoes) in it. Pure stdlib; shared by training and inference so both see
exactly the same features.

Feature names are plain strings with a block prefix (`w:` word, `b:` bigram, `c:` character
n-gram, `r:` rule, `g:` gap type of a rule hit, `x:` veto by a canceller). A post's value for a
word, bigram or character n-gram feature is its count divided by the square root of the post's
number of word features (unigrams plus bigrams); character n-grams are further scaled by
`CHAR_WEIGHT`. One scale for all three blocks keeps the score linear per token: a word's own
weight and its n-grams' fold into one number, so scoring a post costs one look-up per word and
one per word pair. Rule features count once each.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterable, Sequence

CHAR_SIZES = (3, 4, 5)
CHAR_WEIGHT = 0.6
"""Character n-grams' share of the scale (chosen by site-grouped cross-validation on train+dev)."""
MAX_CHAR_TOKEN = 24
"""Longer tokens (hashes, identifiers, run-together words) give no character n-grams."""
_SPLIT: dict[int, str | None] = {ord(c): " " for c in string.punctuation + "“”„«»‹›–—―…·•°×→←§¶"}
_SPLIT.update(dict.fromkeys(map(ord, "'’‘")))  # "doesn't" stays one word: "doesnt"
_TABLE = str.maketrans(_SPLIT)


def tokens(norm: str) -> list[str]:
    """Words of a lower-cased sentence: split at punctuation and spaces, apostrophes dropped
    ("doesn't" is "doesnt"). A translate and a split: C-level, several times faster than a
    tokenizing regular expression. Numbers stay as they are (404 matters; ids and versions
    seldom pass the features' site threshold, so they cost nothing)."""
    return norm.translate(_TABLE).split()


def char_grams(token: str) -> list[str]:
    """In-word character n-grams of one token, with `<` `>` marking the word's edges."""
    if len(token) > MAX_CHAR_TOKEN:
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
    """A post's feature values: counts / sqrt(number of word features), character n-grams
    times `CHAR_WEIGHT`; rules 1 each. Without `chars`, no character n-grams (the gap-type
    scorer does not use them)."""
    toks = post_tokens(norms)
    words = Counter(word_features(toks))
    out: dict[str, float] = {}
    total = sum(words.values())
    if total:
        scale = total ** -0.5
        out.update((k, v * scale) for k, v in words.items())
        if chars:
            grams: Counter[str] = Counter()
            for tok in toks:
                grams.update(char_grams(tok))
            scale *= CHAR_WEIGHT
            out.update((k, v * scale) for k, v in grams.items())
    out.update(dict.fromkeys(rules, 1.0))
    return out
