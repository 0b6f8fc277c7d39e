"""The governed OpenAI-compatible endpoint: ``/v1/chat/completions``, ``/v1/embeddings``
and ``/v1/models``, so code written against the OpenAI API (the openai SDK, LangChain,
agent frameworks) runs behind the platform unchanged.

Every call is governed like a service call (key, limits, budget, screening, one ledger
row under service ``openai``); answers are the provider's own OpenAI-shaped bodies and
errors are in OpenAI's error shape.
"""
