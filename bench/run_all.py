"""Run every benchmark in turn, print their tables, and refresh their sections of docs/benchmarks.md.

Run: `.venv/bin/python bench/run_all.py [--quick] [--only quality,policyqa]`. Each script runs as a
subprocess; its output replaces the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`
in docs/benchmarks.md (a missing section is appended; everything else in the file is left alone).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
BENCHES = {  # name -> (title, full arguments, quick arguments)
    "ingest": ("Ingest", [], ["--repeat", "1"]),
    "quality": ("Answer quality and retrieval on the dev and held-out questions", [], []),
    "policyqa": ("PolicyQA retrieval", [], ["--limit", "300"]),
    "latency": (
        "Latency and scale",
        ["--questions", "100", "--torch-threads", "1"],
        ["--sizes", "1000,10000", "--questions", "100", "--torch-threads", "1"],
    ),
}


def machine() -> str:
    """One line naming the machine: CPUs, RAM, Python."""
    ram = (
        next(
            (
                int(ln.split()[1]) / 1024**2
                for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal:")
            ),
            0.0,
        )
        if Path("/proc/meminfo").exists()
        else 0.0
    )
    return (
        f"{os.cpu_count()} CPUs (nproc), {ram:.1f} GiB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )


def run(name: str, args: list[str]) -> tuple[str, str, float]:
    """(command line, stdout, seconds) of one benchmark script."""
    cmd = [PY, f"bench/{name}.py", *args]
    shown = " ".join([".venv/bin/python", *cmd[1:]])
    print(f"\n$ {shown}", flush=True)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    print(out.stdout, flush=True)
    if out.returncode:
        print(out.stderr[-3000:], file=sys.stderr)
        last = out.stderr.strip().splitlines()[-1:]
        return shown, out.stdout + f"\n(exited with status {out.returncode}: {last})", secs
    return shown, out.stdout, secs


def section(name: str, title: str, command: str, output: str, secs: float) -> str:
    """The marked section of docs/benchmarks.md for one benchmark."""
    when = time.strftime("%Y-%m-%d")
    return (
        f"<!-- bench:{name} -->\n## {title}\n\n`{command}` ({when}; {secs:.0f} s on {machine()})\n\n"
        f"{output.strip()}\n<!-- /bench:{name} -->"
    )


def replace_section(doc: str, name: str, text: str) -> str:
    """doc with the marked section `name` replaced by text (appended if absent)."""
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.DOTALL)
    if pattern.search(doc):
        return pattern.sub(lambda _: text, doc)
    return doc.rstrip() + "\n\n" + text + "\n"


def main() -> None:
    """Run the chosen benchmarks and rewrite their sections."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller settings (PolicyQA sample, sizes up to 10k)")
    parser.add_argument("--only", default="", help="comma-separated subset of " + ",".join(BENCHES))
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    names = [n for n in (args.only.split(",") if args.only else BENCHES) if n]
    sections = {}
    for name in names:
        if not (ROOT / "bench" / f"{name}.py").exists():
            print(f"(bench/{name}.py not present; skipped)")
            continue
        title, full, quick = BENCHES[name]
        command, output, secs = run(name, quick if args.quick else full)
        sections[name] = section(name, title, command, output, secs)
    if not args.no_write:
        # read the file only now: edits made to it during a run of many minutes are kept
        doc = DOC.read_text("utf-8") if DOC.exists() else "# Benchmarks\n\nRefreshed by `bench/run_all.py`.\n"
        for name, text in sections.items():
            doc = replace_section(doc, name, text)
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(doc, "utf-8")
        print(f"\n{DOC.relative_to(ROOT)} updated ({', '.join(sections)})")


if __name__ == "__main__":
    main()
