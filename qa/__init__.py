"""ClauseCite answers: retrieval, cited answers, version comparison and export."""
