"""Customer agent: a tool-using support chat with conversation history and escalation."""
