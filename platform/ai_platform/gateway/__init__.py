"""The gateway: app factory, lifespan, pure-ASGI middleware, health and dependencies."""
