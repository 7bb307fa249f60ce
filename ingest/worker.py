"""Clean a policy file in a child process with a time limit, so a hostile upload cannot stall the app.

Cleaning is pure Python and regular expressions; a C-level regex call holds the interpreter lock
for as long as it runs, so in a thread even a linear pass over 10 MB pauses every other request.
In a child process it pauses nobody, and a file that takes too long is refused.

    python -m ingest.worker PATH MAX_BYTES     (prints the clean text; exit 2 with the error otherwise)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ingest.loaders import LoadError, load_clean

ROOT = Path(__file__).resolve().parents[1]


def load_clean_isolated(path: Path, max_bytes: int, timeout: float) -> str:
    """`load_clean` in a child process; a LoadError if it fails or takes longer than `timeout` seconds."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ingest.worker", str(path), str(max_bytes)],
            cwd=ROOT,
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise LoadError(
            f"{path}: cleaning took longer than {timeout:.0f} s, far longer than any policy "
            "takes; check the file (deeply nested or repeated markup?)"
        ) from None
    if done.returncode == 2:
        raise LoadError(done.stderr.decode("utf-8", "replace").strip())
    if done.returncode != 0:
        raise LoadError(f"{path}: cleaning failed ({done.stderr.decode('utf-8', 'replace').strip()[-300:]})")
    return done.stdout.decode("utf-8", "surrogatepass")


def main(argv: list[str]) -> int:
    """Print the clean text of one file, or its LoadError on stderr with exit status 2."""
    try:
        clean = load_clean(Path(argv[0]), int(argv[1]))
    except LoadError as exc:
        print(exc, file=sys.stderr)
        return 2
    sys.stdout.buffer.write(clean.encode("utf-8", "surrogatepass"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
