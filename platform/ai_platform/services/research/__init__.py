"""Research team: a planner splits a question, researchers answer the parts in parallel
from the knowledge base, a writer composes a cited report and a reviewer checks it.

Jobs run in the background with their state in the database (a jobs table and a steps
table whose rows make every step idempotent): in-process by default, on arq workers
when Redis is configured.
"""
