"""What both faces do, done once: build the answerer, name a policy, compare two versions, follow a topic over time.

cli.py and app.py parse their input, call these (and `Answerer.ask`, `qa.batch`, `ingest.uploads`)
and render what comes back; neither holds logic the other repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.errors import InputError
from qa.answer import Answerer
from qa.compare import align
from qa.records import Answer, ClauseChange, Scope
from qa.retrieve import Retriever
from qa.timeline import TimelineRow, timeline
from settings import Settings


def make_answerer(settings: Settings) -> Answerer:
    """The process's one Answerer (embedding model loaded once), with the LLM drafter if configured."""
    llm = None
    if settings.llm_enabled:
        from qa.llm import LLMAnswerer, make_chat_model

        llm = LLMAnswerer(make_chat_model(settings), settings.llm_model or "local")
    return Answerer(settings, llm=llm)


def parse_policy(policy: str) -> tuple[str, str]:
    """`service/document` (or just `service`) as its two parts; an InputError when no service is named."""
    service, _, document = (policy or "").strip().partition("/")
    if not service:
        raise InputError("choose a policy first (service/document, e.g. x/privacy-policy)")
    return service, document


def index_note(answerer: Answerer, answer: Answer) -> str:
    """What a person must know when the answered version's vectors are missing, or ''."""
    return answerer.retriever.store.incomplete_note(answer.service, answer.document, answer.version)


@dataclass(frozen=True)
class Comparison:
    """The clause-level changes between two versions of one policy."""

    old: Scope
    new: Scope
    changes: list[ClauseChange]


def compare_versions(retriever: Retriever, policy: str, old: str, new: str) -> Comparison:
    """Align the clauses of two versions (dates, or "" for none) of `service/document`."""
    service, document = parse_policy(policy)
    if not old.strip() or not new.strip():
        raise InputError("choose two versions to compare")
    a, b = retriever.resolve(service, document, old.strip()), retriever.resolve(service, document, new.strip())
    store = retriever.store
    return Comparison(
        a, b, align(store.clauses(a.service, a.document, a.version), store.clauses(b.service, b.document, b.version))
    )


def history(answerer: Answerer, policy: str, topic: str) -> list[TimelineRow]:
    """A topic over every version of `service/document`: per version the clause an answer would cite
    first, or "not addressed"; unchanged runs collapsed (qa.timeline)."""
    service, document = parse_policy(policy)
    if not topic.strip():
        raise InputError("type a topic, for example 'location data'")
    return timeline(answerer, service, document, topic.strip())
