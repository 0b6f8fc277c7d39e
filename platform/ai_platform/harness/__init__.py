"""One harness for everything that starts, drives and measures the platform: tests,
lessons, load tests, evals and benchmarks.

- ``ports``: ``free_port``, ``listening_socket``
- ``serving``: ``serve_in_background`` — a real uvicorn server inside this process
- ``processes``: ``ServerProcess``, ``simulator_process``, ``child_env`` — servers as
  child processes, awaited until healthy, stopped (or killed) as a group
- ``tenants``: ``Tenant``, ``create_tenant``, ``tenant_for`` — a client and its key
- ``waiting``: ``wait_for`` / ``wait_for_sync`` — poll a condition with a deadline
- ``stats``: ``percentile`` (linear between closest ranks, numpy's default), ``Summary``
- ``tables``: ``markdown_table``, ``fmt_number``

Submodules are imported on use, so ``from ai_platform.harness.stats import percentile``
loads neither uvicorn nor SQLAlchemy.
"""
