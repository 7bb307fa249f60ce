"""ClauseCite's labelled training questions and the scripts that train its relevance models."""
