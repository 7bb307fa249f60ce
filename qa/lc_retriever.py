"""ClauseCite's retriever as a LangChain BaseRetriever, for use inside other people's chains."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from qa.records import Scope
from qa.retrieve import Retriever


class ClauseRetriever(BaseRetriever):
    """Clauses of one policy version as LangChain Documents (text + service/version/section metadata)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    retriever: Retriever
    scope: Scope
    k: int = 6

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.retriever.search(query, self.scope, k=self.k)
        return [
            Document(
                page_content=h.clause.text,
                id=h.clause.clause_id,
                metadata={
                    **{k: v for k, v in h.clause.to_dict().items() if k not in ("text", "heading_path")},
                    "heading_path": " › ".join(h.clause.heading_path),
                    "score": h.score,
                },
            )
            for h in hits
        ]
