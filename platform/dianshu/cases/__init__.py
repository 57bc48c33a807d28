"""Settlement lists (医保结算清单): the case model, validated idempotent ingestion, recall."""
