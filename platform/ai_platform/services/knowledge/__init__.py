"""Knowledge base: ingest documents, search them (full text + vectors) and answer with citations.

Other services retrieve through ``service.search_knowledge(ctx, session, query)``.
"""
