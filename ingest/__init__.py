"""ClauseCite ingest: policy versions in, a versioned clause index out."""
