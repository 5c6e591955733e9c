"""Compare the sandbox's model of `to_tsvector('english', ...)` with a real PostgreSQL.

Usage: python scripts/check_tsvector.py FILE.jsonl [--field text] [--psql "psql -h HOST -U USER"]
Each JSON line's field is indexed both ways (raw and with tags unwrapped, as GitLab does); the
script prints how many documents agree exactly and, per disagreement, the lexemes either side
has alone. Development aid only: the test suite never needs PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys

from docsgap.sandbox.gitlab.search import indexed_text, parse


def ours(text: str) -> set[str]:
    return {lex for lex, _ in parse(text) if lex is not None}


def theirs(psql: list[str], texts: list[str]) -> list[set[str]]:
    tag = "$docsgap$"
    sql = "".join(f"select array_to_string(tsvector_to_array(to_tsvector('english', "
                  f"{tag}{t}{tag})), ' ');\n" for t in texts)
    out = subprocess.run([*psql, "-At", "-f", "-"], input=sql, capture_output=True, text=True,
                         check=True).stdout
    return [set(line.split()) for line in out.splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--field", default="text")
    parser.add_argument("--psql", default="psql -d postgres")
    args = parser.parse_args()
    with open(args.file, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    texts = [indexed_text(str(r.get(args.field) or ""), mode)
             for r in rows for mode in ("raw", "unwrap")]
    texts = [t for t in texts if "$docsgap$" not in t]
    real = theirs(shlex.split(args.psql), texts)
    same = 0
    for text, want in zip(texts, real, strict=True):
        got = ours(text)
        if got == want:
            same += 1
        else:
            print(f"only PostgreSQL: {sorted(want - got)[:8]}  only sandbox: "
                  f"{sorted(got - want)[:8]}")
    print(f"{same}/{len(texts)} documents index to the same lexemes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
