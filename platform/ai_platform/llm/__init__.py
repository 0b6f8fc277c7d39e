"""LLM access: the openai-SDK client, the price table, the offline token estimator and
the bundled OpenAI-compatible simulator."""
