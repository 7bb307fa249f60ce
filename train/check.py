"""Check training-question files: every quote verbatim, labels well-formed, no repeats; print counts.

python -m train.check train/questions/*.jsonl
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from train.data import load, names_company, norm, problems, shares_no_word


def main(argv: list[str] | None = None) -> int:
    """Exit 1 when any example has a problem; the counts are printed either way."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    seen: dict[str, str] = {}  # document and question -> where first seen
    bad, examples = [], []
    for path in args.files:
        exs, malformed = load(path)
        bad += malformed
        for ex in exs:
            bad += problems(ex)
            q = f"{ex.key} {norm(ex.question)}"  # one question may fairly be asked of two policies
            if q in seen:
                bad.append(f"{ex.where}: same question about the same document as {seen[q]}")
            seen.setdefault(q, ex.where)
        examples += exs
    per_doc = Counter((ex.key, ex.answerable) for ex in examples)
    for key in sorted({k for k, _ in per_doc}):
        print(f"{key:60} answerable {per_doc[(key, True)]:4}  unanswerable {per_doc[(key, False)]:4}")
    answerable = [ex for ex in examples if ex.answerable]
    no_word = sum(shares_no_word(ex) for ex in answerable)
    print(
        f"\n{len(answerable)} answerable, {len(examples) - len(answerable)} unanswerable over "
        f"{len({ex.key for ex in examples})} documents; {no_word} answerable "
        f"({no_word / max(len(answerable), 1):.0%}) share no content word with their evidence"
    )
    share = {
        label: sum(map(names_company, group)) / max(len(group), 1)
        for label, group in (("answerable", answerable), ("unanswerable", [ex for ex in examples if not ex.answerable]))
    }
    print(
        f"the company is named in {share['answerable']:.0%} of answerable and {share['unanswerable']:.0%} of "
        "unanswerable questions (a large gap teaches a model the name, not the question)"
    )
    for line in bad:
        print(line, file=sys.stderr)
    print(f"{len(bad)} problem(s)", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
