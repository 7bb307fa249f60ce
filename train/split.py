"""Which training documents are held out of all training (by service), for the blind evaluation set."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "training" / "corpora"

# Whole services, so no held-out company is seen in training. Measured only when a change is final.
HELD_OUT_SERVICES = (
    "bitwarden",
    "coursera",
    "duckduckgo",
    "flickr",
    "lyft",
    "miro",
    "netflix",
    "okcupid",
    "telegram",
    "xfinity",
    "wix",
)
# Too long to write questions over by hand (948 kB); left out of both sides.
UNUSED = (("roblox", "terms-of-service"),)


def documents(corpus: Path = CORPUS) -> list[Path]:
    """Every training-corpus document file, as service/document/DATE.md paths."""
    return sorted(p for p in corpus.glob("*/*/*.md") if not p.parts[-3].startswith("_"))


def is_held_out(service: str) -> bool:
    """True for a service kept out of all training."""
    return service in HELD_OUT_SERVICES


def training_documents(corpus: Path = CORPUS) -> list[Path]:
    """The documents that training questions may be written over."""
    return [p for p in documents(corpus) if not is_held_out(p.parts[-3]) and (p.parts[-3], p.parts[-2]) not in UNUSED]
