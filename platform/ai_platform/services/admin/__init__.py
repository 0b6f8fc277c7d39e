"""Administration: clients, API keys, usage and cost reports, the price table in use."""
